"""What is being pushed: a run (its final model plus its results) or any model folder."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from workbench.core.errors import WorkbenchError
from workbench.core.runs.folder import (
    CHECKPOINT_PREFIX,
    CHECKPOINTS_DIR,
    FINAL_DIR,
    SPEC_FILE,
    SUMMARY_FILE,
    is_run_folder,
)

MODEL_FILE_PATTERNS = (
    "config.json",
    "*.safetensors",
    "*.bin",
    "adapter_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
)


@dataclass
class PushSource:
    folder: Path  # the folder whose files are uploaded
    run_dir: Path | None = None
    run_id: str | None = None
    summary: dict = field(default_factory=dict)
    spec: dict = field(default_factory=dict)
    note: str = ""  # e.g. "using checkpoint-40: the run has no final model"


def _is_run_dir(path: Path) -> bool:
    return is_run_folder(path) or (path / SUMMARY_FILE).exists()


def _looks_like_model(folder: Path) -> bool:
    return any(any(folder.glob(pattern)) for pattern in MODEL_FILE_PATTERNS)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _checkpoint_step(path: Path) -> int:
    match = re.search(r"(\d+)$", path.name)
    return int(match.group(1)) if match else -1


def from_run(run_dir: Path) -> PushSource:
    run_dir = Path(run_dir)
    source = PushSource(folder=run_dir / FINAL_DIR, run_dir=run_dir, run_id=run_dir.name)
    source.summary = _read_json(run_dir / SUMMARY_FILE)
    source.spec = _read_toml(run_dir / SPEC_FILE)
    if not source.folder.is_dir():
        checkpoints = sorted((run_dir / CHECKPOINTS_DIR).glob(f"{CHECKPOINT_PREFIX}*"), key=_checkpoint_step)
        if not checkpoints:
            raise WorkbenchError(
                f"Run {run_dir.name} has no model to push yet (no final/ and no checkpoints/).",
                hint="Wait for the run to save a checkpoint or finish, then push again.",
            )
        source.folder = checkpoints[-1]
        source.note = f"The run has no final model; pushing its latest checkpoint ({checkpoints[-1].name})."
    return source


def resolve_source(target: str | Path, runs_dir: Path | None = None, run_dir: str | Path | None = None) -> PushSource:
    """A run folder, a run id (looked up in runs_dir), a run's final/ folder, or a model folder."""
    path = Path(target).expanduser()
    if run_dir is not None:
        source = from_run(Path(run_dir))
        if path.is_dir():
            source.folder = path
        return source
    if path.is_dir():
        if _is_run_dir(path):
            return from_run(path)
        if _is_run_dir(path.parent) and path.name == "final":
            source = from_run(path.parent)
            source.folder = path
            return source
        if _is_run_dir(path.parent.parent) and path.parent.name == "checkpoints":
            source = from_run(path.parent.parent)
            source.folder = path
            return source
        if not _looks_like_model(path):
            raise WorkbenchError(
                f"{path} does not look like a model folder (no config.json, weights or tokenizer files).",
                hint="Point at a folder written by save_pretrained, or at a run folder.",
            )
        return PushSource(folder=path)
    if runs_dir is not None and str(target) and "/" not in str(target):
        candidates = [p for p in Path(runs_dir).glob(f"{target}*") if p.is_dir()]
        if len(candidates) == 1:
            return from_run(candidates[0])
        if len(candidates) > 1:
            names = ", ".join(sorted(p.name for p in candidates)[:5])
            raise WorkbenchError(f"{target!r} matches several runs: {names}", hint="Give more of the run id.")
    raise WorkbenchError(
        f"{target!r} is neither a folder nor a run id.",
        hint="Give a model folder, a run folder, or a run id (see `workbench runs`).",
    )
