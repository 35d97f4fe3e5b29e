"""The training child: `accelerate launch -m workbench.training.child --run-dir DIR [--resume]`.

The course's full training loop (AdamW, `get_scheduler`, `DataCollatorWithPadding`,
evaluation with `evaluate`) with Accelerate, writing the run folder's events as it goes.
Only the main process writes events and files.

The parts: `configure` sets the run up, `loop` trains (its `LoopState` is what a checkpoint
saves), `event_sink` writes the events (the final one last), `summary` writes summary.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

import tomllib

from workbench.core.runs.folder import SPEC_FILE
from workbench.core.runs.protocol import Failed, Finished, RunStarted
from workbench.training import checkpoints
from workbench.training.event_sink import RunEvents
from workbench.training.guards import disk_full_message, is_disk_full, suggestion_for
from workbench.training.loop import NAN_SUGGESTION, NonFiniteLoss, StopRequest, TrainingLoop
from workbench.training.summary import build_summary, devices, peak_gpu_memory_mb, versions, write_summary

__all__ = ["Run", "RunEvents", "main"]


class Run:
    """One training process: set up, resume, train, finish; `run()` returns the final status."""

    def __init__(self, run_dir: Path, resume: bool) -> None:
        self.run_dir = run_dir
        self.resume = resume
        self.spec = tomllib.loads((run_dir / SPEC_FILE).read_text(encoding="utf-8"))
        self.run_id = run_dir.name
        self.stop = StopRequest(run_dir)
        self.events: RunEvents | None = None  # once the Accelerator says which process writes
        self.loop: TrainingLoop | None = None  # once the run is set up

    def run(self) -> str:
        from workbench.training import configure

        started = time.time()
        spec = self.spec
        hardware = configure.make_accelerator(spec)
        accelerator = hardware.accelerator
        mirror = None
        if accelerator.is_main_process and spec["training"].get("report_to"):
            from workbench.training.trackers import TrackerMirror

            mirror = TrackerMirror.from_spec(spec, self.run_dir)
        self.events = events = RunEvents(self.run_dir, accelerator.is_main_process, mirror)
        self.stop.install_handlers()
        if accelerator.is_main_process:
            for path in checkpoints.clean_leftovers(self.run_dir):
                events.log(f"Removed {path.relative_to(self.run_dir)}, left by an interrupted run")
        setup = configure.build(spec, hardware, events, self.run_dir)
        self.loop = loop = TrainingLoop(setup, spec, self.run_dir, events, self.stop)
        resumed_from = loop.resume() if self.resume else None

        events.emit(
            RunStarted(
                run_id=self.run_id,
                spec=spec,
                versions=versions(),
                devices=devices(accelerator),
                num_processes=accelerator.num_processes,
                total_steps=setup.total_steps,
                num_epochs=float(setup.num_epochs),
                steps_per_epoch=setup.steps_per_epoch,
                pid=os.getpid(),
                resumed_from_step=resumed_from,
            )
        )
        events.log(
            f"Training: {setup.train_rows} rows, {setup.num_epochs} epoch(s) of {setup.steps_per_epoch} step(s),"
            f" {setup.total_steps} steps on {accelerator.device.type} x{accelerator.num_processes}"
            f" (load {time.time() - started:.1f} s)"
        )
        from workbench.training.system import start_run_monitor

        start_run_monitor(events, self.run_dir, spec["monitor"]["system_sample_interval_s"], accelerator)
        return self.finish(loop.train())

    def summary(self, status: str) -> dict:
        loop = self.loop
        if loop is None:
            return build_summary(self.spec, self.run_dir, status, 0)
        return build_summary(
            self.spec, self.run_dir, status, loop.state.global_step, loop.state, loop.setup.steps_per_epoch
        )

    def finish(self, status: str) -> str:
        summary = self.summary(status)
        peak = peak_gpu_memory_mb()
        if peak is not None:
            summary["peak_gpu_memory_mb"] = peak
        if self.loop.accelerator.is_main_process:
            write_summary(self.run_dir, summary)
        self.events.final(Finished(status=status, summary=summary))
        return status

    def fail(self, error: BaseException) -> None:
        """The failure as the run's final event, summary.json and stderr (main process only)."""
        events = self.events
        if events is not None and not events.enabled:
            return
        if events is None:
            self.events = events = RunEvents(self.run_dir, True)
        suggestion = NAN_SUGGESTION if isinstance(error, NonFiniteLoss) else suggestion_for(error)
        message = str(error) if isinstance(error, NonFiniteLoss) else f"{type(error).__name__}: {error}"
        if is_disk_full(error):
            # Make room for the final event: the half-written checkpoint or model is the run's own.
            checkpoints.clean_leftovers(self.run_dir)
            message = disk_full_message(self.run_dir)
        try:
            write_summary(self.run_dir, self.summary("failed"))
        except OSError:
            pass
        events.final(Failed(error=message, traceback=traceback.format_exc(), suggestion=suggestion))
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        if suggestion:
            print(suggestion, file=sys.stderr, flush=True)


# Set to 1 to start the GPU in the main thread only (to compare the start-up times).
NO_WARMUP_ENV = "WORKBENCH_NO_DEVICE_WARMUP"


def start_device_warmup(spec: dict):
    """Import torch and create this process's CUDA context in a thread, while the main thread imports
    accelerate and transformers and reads the data; the thread, or None on a CPU run.

    Creating the context (about a second or more on a large GPU) runs in torch's C++ with the GIL
    released, so it overlaps the Python work. The device is the one Accelerate will pick
    (`LOCAL_RANK`, 0 for a single process); nothing else touches the GPU here."""
    import threading

    if (spec.get("training") or {}).get("use_cpu") or os.environ.get(NO_WARMUP_ENV) == "1":
        return None

    def warm() -> None:
        try:
            import torch

            if torch.cuda.is_available():
                index = int(os.environ.get("LOCAL_RANK", "0") or 0)
                torch.empty(1, device=f"cuda:{index}")
        except Exception:  # the main thread meets (and reports) any real problem itself
            pass

    thread = threading.Thread(target=warm, name="device-warmup", daemon=True)
    thread.start()
    return thread


def preload() -> None:
    """What every run imports before its first step, done by a spare while it waits (no CUDA context)."""
    import accelerate  # noqa: F401
    import datasets  # noqa: F401
    import torch  # noqa: F401
    import transformers.modeling_utils  # noqa: F401  (the heavy part of every model class's import)
    from transformers import AutoConfig, AutoTokenizer  # noqa: F401

    from workbench.training import configure  # noqa: F401


def quiet_progress_bars() -> None:
    """No tqdm bars in the run's log: stdout.log is a file, and each bar (loading weights, writing shards,
    Map) wrote a carriage-return frame per update into it, and into `workbench logs` and the log tail.
    The loop reports its own progress as events and log lines."""
    import datasets
    import transformers.utils.logging

    transformers.utils.logging.disable_progress_bar()  # huggingface_hub's bars too
    datasets.disable_progress_bars()


def wait_for_run() -> list[str] | None:
    """A spare's wait (`training/spare.py`): preload, then read the run its supervisor hands over on stdin,
    point this process's output at the run's stdout.log and work in its folder; the run's arguments, or
    None when the spare ends unused."""
    import json

    from workbench.core.runs.folder import STDOUT_FILE

    started = time.perf_counter()
    preload()
    loaded = time.perf_counter() - started
    line = sys.stdin.readline()
    if not line:
        return None
    request = json.loads(line)
    log = os.open(Path(request["run_dir"]) / STDOUT_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.chdir(request["run_dir"])
    print(f"Started by a spare run process: its imports ({loaded:.1f} s) were done before the run.", flush=True)
    return list(request["args"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workbench.training.child")
    parser.add_argument("--run-dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--cpu-threads", type=int, default=0, help="a CPU run started without accelerate launch")
    parser.add_argument("--spare", action="store_true", help="preload, then take the run handed over on stdin")
    args = parser.parse_args(argv)
    if args.spare:
        handed = wait_for_run()
        if handed is None:
            return 0
        args = parser.parse_args(handed)
    if args.run_dir is None:
        parser.error("--run-dir is required")
    run = Run(args.run_dir.resolve(), args.resume)
    if run.spec.get("model", {}).get("torch_compile"):
        # Before torch compiles anything: its graphs and kernels persist in the runs directory.
        from workbench.training.caches import use_compile_cache

        use_compile_cache(run.run_dir)
    if args.cpu_threads > 0:  # what `accelerate launch --num_cpu_threads_per_process` would have set
        os.environ["OMP_NUM_THREADS"] = str(args.cpu_threads)
        import torch

        torch.set_num_threads(args.cpu_threads)
    else:
        start_device_warmup(run.spec)
    try:
        quiet_progress_bars()
        run.run()
        return 0
    except BaseException as error:  # every failure becomes a Failed event, then the process exits non-zero
        run.fail(error)
        return 1
    finally:
        if run.events is not None:
            run.events.close()


if __name__ == "__main__":
    raise SystemExit(main())
