"""What "hub: push" (the palette, the app's action) opens when no pane asked for a folder."""

from __future__ import annotations

from pathlib import Path


def push_target(active_model_path: str, runs_dir: Path) -> tuple[str, str | None] | None:
    """What "hub: push" opens: the active local model folder, else the newest run with a model."""
    if active_model_path and Path(active_model_path).is_dir():
        folder = Path(active_model_path)
        run_dir = folder.parent if (folder.parent / "spec.toml").exists() else None
        return str(folder), str(run_dir) if run_dir else None
    try:
        runs = sorted((p for p in runs_dir.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
    except OSError:
        return None
    for run in runs:
        if (run / "final").is_dir():
            return str(run / "final"), str(run)
    return None
