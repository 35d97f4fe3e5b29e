"""The run's summary (`summary.json`) and what it records about the environment."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

from workbench.core.runs.folder import SUMMARY_FILE


def versions() -> dict[str, str]:
    import accelerate
    import datasets
    import torch
    import transformers

    import workbench

    found = {
        "python": platform.python_version(),
        "workbench": workbench.__version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "accelerate": accelerate.__version__,
        "datasets": datasets.__version__,
    }
    if torch.version.cuda:
        found["cuda"] = torch.version.cuda
    return found


def safe_versions() -> dict[str, str]:
    try:
        return versions()
    except ImportError as error:
        return {"error": str(error)}


def devices(accelerator) -> list[dict]:
    import torch

    if accelerator.device.type == "cuda":
        return [
            {
                "type": "cuda",
                "index": index,
                "name": torch.cuda.get_device_name(index),
                "memory_total_mb": torch.cuda.get_device_properties(index).total_memory / 2**20,
            }
            for index in range(torch.cuda.device_count())
        ]
    return [
        {
            "type": accelerator.device.type,
            "name": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "threads": torch.get_num_threads(),
        }
    ]


def peak_gpu_memory_mb() -> float | None:
    """Peak memory the caching allocator handed out on this process's GPU, or None on the CPU."""
    import torch

    if not torch.cuda.is_available():
        return None
    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


def build_summary(
    spec: dict,
    run_dir: Path,
    status: str,
    global_step: int,
    state=None,
    steps_per_epoch: int | None = None,
    with_versions: bool = True,
) -> dict:
    """The summary of a run that ended with `status`; `state` is the loop's `LoopState` (None when
    the run failed before its loop was set up)."""
    data = spec.get("data", {})
    return {
        "status": status,
        "run_id": Path(run_dir).name,
        "model": spec.get("model", {}).get("name_or_path"),
        "dataset": data.get("dataset") or Path(data.get("train_file", "")).name,
        "head": spec.get("model", {}).get("head"),
        "steps": global_step,
        "epochs": round(global_step / steps_per_epoch, 4) if steps_per_epoch else None,
        "train_runtime_s": round(state.elapsed_s if state is not None else 0.0, 3),
        "final_metrics": state.last_metrics if state is not None else {},
        "best_metric": state.best if state is not None else None,
        "hyperparameters": spec.get("training", {}),
        "versions": safe_versions() if with_versions else {},
    }


def write_summary(run_dir: Path, summary: dict) -> None:
    temporary = Path(run_dir) / f"{SUMMARY_FILE}.tmp"
    temporary.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    temporary.replace(Path(run_dir) / SUMMARY_FILE)
