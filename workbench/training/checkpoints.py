"""Checkpoint folders: written to a temporary folder then renamed (a crash never leaves half a
checkpoint under a real name), the newest K kept, the latest found for resuming."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

PATTERN = re.compile(r"^checkpoint-(\d+)$")
STATE_FILE = "workbench_state.json"


def checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    found = []
    if folder.is_dir():
        for path in folder.iterdir():
            match = PATTERN.match(path.name)
            if match and path.is_dir() and (path / STATE_FILE).is_file():
                found.append((int(match.group(1)), path))
    return sorted(found)


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = checkpoints(run_dir)
    return found[-1][1] if found else None


def temporary_folder(run_dir: Path, step: int) -> Path:
    folder = Path(run_dir) / "checkpoints" / f".tmp-checkpoint-{step}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def commit(temporary: Path, state: dict) -> Path:
    """Write the loop state last, then rename the folder into place."""
    (temporary / STATE_FILE).write_text(json.dumps(state, indent=1), encoding="utf-8")
    final = temporary.parent / temporary.name.removeprefix(".tmp-")
    if final.exists():
        shutil.rmtree(final)
    temporary.rename(final)
    return final


def rotate(run_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` checkpoints (0 keeps all); returns what was removed."""
    if keep <= 0:
        return []
    removed = []
    for _, path in checkpoints(run_dir)[:-keep]:
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def read_state(checkpoint: Path) -> dict:
    return json.loads((Path(checkpoint) / STATE_FILE).read_text(encoding="utf-8"))


def save_folder_atomically(target: Path, write) -> Path:
    """Call `write(tmp_folder)` then rename it to `target` (used for final/)."""
    target = Path(target)
    temporary = target.parent / f".tmp-{target.name}"
    if temporary.exists():
        shutil.rmtree(temporary)
    temporary.mkdir(parents=True)
    write(temporary)
    if target.exists():
        shutil.rmtree(target)
    temporary.rename(target)
    return target
