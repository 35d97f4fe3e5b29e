"""Stop and resume a multi-GPU workbench run, and check the GPU numbers in its events are real.

Launches a run on `--processes` GPUs (DDP, or FSDP with `--fsdp`), asks it to stop once it has
passed `--stop-after` steps, resumes it, and prints: the step it stopped at, the step the resumed
child started from, whether the step numbers continue without a gap, and per GPU the highest
utilisation and memory that the system samples reported while training.

    python benchmarks/gpu_stop_resume.py --processes 2 [--fsdp]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.gpu_throughput import MRPC_DEFAULT, prepare  # noqa: E402


def wait_for(run_dir: Path, predicate, timeout: float = 600):
    from workbench.core.runs.protocol import read_events
    from workbench.training import runs

    deadline = time.time() + timeout
    while time.time() < deadline:
        events = read_events(run_dir / "events.jsonl")
        if predicate(events) or (not runs.is_alive(run_dir) and runs.read_run(run_dir).status != "starting"):
            return events
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting on {run_dir}\n{runs.log_tail(run_dir)}")


def main() -> None:
    os.environ.setdefault("WORKBENCH_SPARE_RUN", "0")  # no spare run processes: every row starts as a first run does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--fsdp", action="store_true")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--stop-after", type=int, default=150)
    parser.add_argument("--mrpc", type=Path, default=MRPC_DEFAULT)
    parser.add_argument("--tokenizer", type=Path, default=None)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--compile", action="store_true", help="with model.torch_compile (CUDA graphs on GPUs)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import torch

    from workbench.core.runs.protocol import Finished, RunStarted, Step, SystemSample
    from workbench.training import runs
    from workbench.training.spec import default_spec

    if args.tokenizer is None:
        from workbench.core.embedded import embedded_model_path

        args.tokenizer = embedded_model_path()
    workdir = Path(tempfile.mkdtemp(prefix="wb-gpu-resume-"))
    data, model_dir, _ = prepare(workdir, args.tokenizer, args.mrpc, 29344, args.tiny)
    spec = default_spec(model=str(model_dir), data=str(data))
    spec["data"].update(text_column="sentence1", text_pair_column="sentence2", label_column="label")
    spec["training"].update(
        per_device_train_batch_size=args.batch,
        max_steps=args.steps,
        eval_strategy="no",
        metrics=[],
        save_steps=50,
        logging_steps=10,
        num_processes=args.processes,
        group_by_length=True,
        mixed_precision="bf16" if torch.cuda.is_available() else "no",
        distributed="fsdp" if args.fsdp else "ddp",
    )
    spec["model"]["torch_compile"] = args.compile
    spec["monitor"]["system_sample_interval_s"] = 1.0
    info = runs.launch_run(spec, runs_dir=workdir / "runs")
    wait_for(info.path, lambda events: any(isinstance(e, Step) and e.step >= args.stop_after for e in events))
    runs.stop_run(info.path)
    first = wait_for(info.path, lambda events: any(isinstance(e, Finished) for e in events))
    stopped = next(e for e in first if isinstance(e, Finished))
    runs.resume_run(info.path)
    everything = wait_for(
        info.path,
        lambda events: (
            sum(isinstance(e, Finished) for e in events) >= 2
            or any(getattr(e, "status", None) in ("failed", "crashed") for e in events[len(first) :])
        ),
    )
    later = everything[len(first) :]
    resumed = next((e for e in later if isinstance(e, RunStarted)), None)
    steps = [e.step for e in everything if isinstance(e, Step)]
    gpus: dict[int, dict] = {}
    for event in everything:
        if isinstance(event, SystemSample):
            for gpu in event.gpus:
                seen = gpus.setdefault(
                    gpu.index, {"max_utilization": 0.0, "max_memory_used_mb": 0.0, "max_run_memory_mb": 0.0}
                )
                seen["max_utilization"] = max(seen["max_utilization"], gpu.utilization or 0.0)
                seen["max_memory_used_mb"] = max(seen["max_memory_used_mb"], gpu.memory_used_mb or 0.0)
                seen["max_run_memory_mb"] = max(seen["max_run_memory_mb"], gpu.process_memory_mb or 0.0)
    final = next((e for e in reversed(later) if isinstance(e, Finished)), None)
    report = {
        "mode": ("fsdp" if args.fsdp else "ddp") + (" compiled" if args.compile else ""),
        "processes": args.processes,
        "stopped_status": stopped.status,
        "stopped_at_step": stopped.summary.get("steps"),
        "resumed_from_step": resumed.resumed_from_step if resumed else None,
        "final_status": final.status if final else runs.read_run(info.path).status,
        "final_step": final.summary.get("steps") if final else None,
        "steps_strictly_increasing": all(b > a for a, b in zip(steps, steps[1:])),
        "gpus_in_system_samples": gpus,
        "final_model_saved": (info.path / "final" / "config.json").is_file(),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
