"""Checkpoint folders: written to a temporary folder then renamed (a crash never leaves half a
checkpoint under a real name), the newest K kept, the latest found for resuming.

Deleting is the reverse: an old checkpoint is first renamed to `.deleting-checkpoint-N`, then
removed, so a kill in the middle leaves a name that `clean_leftovers` removes at the next start
instead of a half-deleted `checkpoint-N`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from workbench.core.runs.folder import CHECKPOINT_PREFIX, CHECKPOINTS_DIR, FINAL_DIR

PATTERN = re.compile(rf"^{re.escape(CHECKPOINT_PREFIX)}(\d+)$")
STATE_FILE = "workbench_state.json"
TEMPORARY_PREFIX = ".tmp-"
DELETING_PREFIX = ".deleting-"


def checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints, oldest first."""
    folder = Path(run_dir) / CHECKPOINTS_DIR
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


def temporary_path(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / CHECKPOINTS_DIR / f"{TEMPORARY_PREFIX}{CHECKPOINT_PREFIX}{step}"


def temporary_folder(run_dir: Path, step: int) -> Path:
    """A new, empty temporary folder for the checkpoint of `step`."""
    folder = temporary_path(run_dir, step)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def commit(temporary: Path, state: dict) -> Path:
    """Write the loop state last, then rename the folder into place."""
    (temporary / STATE_FILE).write_text(json.dumps(state, indent=1), encoding="utf-8")
    final = temporary.parent / temporary.name.removeprefix(TEMPORARY_PREFIX)
    if final.exists():
        remove_folder(final)
    temporary.rename(final)
    return final


def rotate(run_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` checkpoints (0 keeps all); returns what was removed."""
    if keep <= 0:
        return []
    removed = []
    for _, path in checkpoints(run_dir)[:-keep]:
        remove_folder(path)
        removed.append(path)
    return removed


def remove_folder(path: Path) -> None:
    """Rename out of the way (one atomic step), then delete."""
    path = Path(path)
    doomed = path.with_name(DELETING_PREFIX + path.name)
    if doomed.exists():
        shutil.rmtree(doomed, ignore_errors=True)
    path.rename(doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def clean_leftovers(run_dir: Path) -> list[Path]:
    """Remove what an interrupted run left: folders being deleted or written (`.deleting-*`,
    `.tmp-*`, `.tmp-final`) and checkpoints without their state file that are older than the
    latest complete one (half-deleted by a rotation from before the rename step). Returns them."""
    run_dir = Path(run_dir)
    folder = run_dir / CHECKPOINTS_DIR
    found = [run_dir / f"{TEMPORARY_PREFIX}{FINAL_DIR}"]
    if folder.is_dir():
        complete = checkpoints(run_dir)
        newest = complete[-1][0] if complete else None
        for path in folder.iterdir():
            match = PATTERN.match(path.name)
            if path.name.startswith((TEMPORARY_PREFIX, DELETING_PREFIX)):
                found.append(path)
            elif match and newest is not None and int(match.group(1)) < newest and not (path / STATE_FILE).is_file():
                found.append(path)
    removed = []
    for path in found:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def read_state(checkpoint: Path) -> dict:
    return json.loads((Path(checkpoint) / STATE_FILE).read_text(encoding="utf-8"))


def save_folder_atomically(target: Path, write) -> Path:
    """Call `write(tmp_folder)` then rename it to `target` (used for final/)."""
    target = Path(target)
    temporary = target.parent / f"{TEMPORARY_PREFIX}{target.name}"
    if temporary.exists():
        shutil.rmtree(temporary)
    temporary.mkdir(parents=True)
    write(temporary)
    if target.exists():
        remove_folder(target)
    temporary.rename(target)
    return target
