"""Runs: launch, list, read, stop, kill and resume training runs (see RUNS_API.md).

A run is a folder; its state is what its files say. The child is started with
`accelerate launch` in a session of its own (start_new_session), so it outlives the TUI,
the terminal and an SSH hang-up. Nothing here imports torch.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from workbench.core.errors import WorkbenchError
from workbench.core.runs import protocol
from workbench.training.spec import (
    EMBEDDED_MODEL,
    SpecError,
    complete_spec,
    dump_spec,
    load_spec,
    resolve_paths,
    validate_spec,
)

RUN_STATUSES = ("starting", "running", "finished", "stopped", "crashed", "failed")
FINAL_STATUSES = ("finished", "stopped", "crashed", "failed")
STOP_FILE = "control/stop"
LAUNCHED_FILE = "control/launched"  # time of the latest launch (a resume re-launches)
LOG_TAIL_LINES = 40
PACKAGE_PARENT = Path(__file__).resolve().parents[2]


@dataclass
class RunInfo:
    run_id: str
    path: Path
    status: str
    model: str
    dataset: str
    started_at: float | None
    ended_at: float | None
    step: int
    total_steps: int | None
    best_metric: tuple[str, float] | None
    pid: int | None
    error: str | None = None  # the failure or crash message, when there is one

    @property
    def is_active(self) -> bool:
        return self.status in ("starting", "running")


# Run ids and folders -------------------------------------------------------------------------


def model_short_name(name_or_path: str) -> str:
    if name_or_path == EMBEDDED_MODEL:
        return "minilm"
    short = Path(name_or_path.rstrip("/")).name or "model"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", short).strip("-.")[:24] or "model"


def new_run_id(spec: dict, now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now or time.time()))
    return f"{stamp}-{model_short_name(spec['model']['name_or_path'])}-{secrets.token_hex(2)}"


def default_runs_dir() -> Path:
    from workbench.core.settings import load_settings

    return load_settings().runs_path


def find_run(name: str, runs_dir: Path | None = None) -> Path:
    """A run folder from a path, a run id, or a unique prefix/suffix of one ("latest" = newest)."""
    candidate = Path(name).expanduser()
    if candidate.is_dir() and (candidate / "spec.toml").exists():
        return candidate
    runs_dir = Path(runs_dir or default_runs_dir())
    folders = sorted((p for p in runs_dir.iterdir() if p.is_dir()), reverse=True) if runs_dir.is_dir() else []
    if name == "latest" and folders:
        return folders[0]
    exact = [p for p in folders if p.name == name]
    if exact:
        return exact[0]
    matches = [p for p in folders if p.name.startswith(name) or p.name.endswith(name)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise WorkbenchError(f"No run {name!r} in {runs_dir}", hint="List runs with `workbench runs`.")
    raise WorkbenchError(f"{name!r} matches {len(matches)} runs: {', '.join(p.name for p in matches[:5])}")


# Launching -----------------------------------------------------------------------------------


def gpu_count() -> int:
    """NVIDIA GPUs visible to NVML (0 without a driver); cheap, no torch."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            return pynvml.nvmlDeviceGetCount()
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # no library, no driver: no GPU
        return 0


def cpu_threads() -> int:
    """Threads for a CPU run: OMP_NUM_THREADS when set, else the physical cores this process may
    run on. Accelerate's own choice counts every physical core of the machine, which
    oversubscribes a process pinned to a few (taskset, cgroup cpusets, schedulers' allocations)."""
    import psutil

    configured = os.environ.get("OMP_NUM_THREADS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    physical = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else physical
    return max(1, min(physical, allowed))


def launch_command(spec: dict, run_dir: Path, *, resume: bool = False, gpus: int | None = None) -> list[str]:
    training = spec["training"]
    gpus = gpu_count() if gpus is None else gpus
    on_cpu = bool(training.get("use_cpu")) or gpus == 0
    processes = 1 if on_cpu else min(training.get("num_processes", 1), gpus)
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--num_machines",
        "1",
        "--num_processes",
        str(processes),
        "--mixed_precision",
        training.get("mixed_precision", "no"),
        "--dynamo_backend",
        "no",
    ]
    if training.get("accelerate_config"):
        # The user's Accelerate config; the flags above still win where they are given.
        command += ["--config_file", str(Path(training["accelerate_config"]).expanduser())]
    if on_cpu:
        command += ["--cpu", "--num_cpu_threads_per_process", str(cpu_threads())]
    elif processes > 1 and training.get("distributed") == "fsdp":
        # FSDP2, one shard per GPU, wrapping the model's own blocks (its `_no_split_modules`).
        command += [
            "--use_fsdp",
            "--fsdp_version",
            "2",
            "--fsdp_auto_wrap_policy",
            "TRANSFORMER_BASED_WRAP",
            "--fsdp_state_dict_type",
            "SHARDED_STATE_DICT",
            "--fsdp_reshard_after_forward",
            "true",
        ]
    elif processes > 1:
        command.append("--multi_gpu")
    command += ["-m", "workbench.training.child", "--run-dir", str(run_dir)]
    if resume:
        command.append("--resume")
    return command


def child_environment() -> dict[str, str]:
    env = os.environ.copy()
    # The child must import this workbench even when it is not pip-installed.
    paths = [str(PACKAGE_PARENT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    return env


def _start_child(spec: dict, run_dir: Path, resume: bool) -> int:
    (run_dir / "control").mkdir(parents=True, exist_ok=True)
    (run_dir / LAUNCHED_FILE).write_text(repr(time.time()), encoding="utf-8")
    with open(run_dir / "stdout.log", "ab") as log:
        process = subprocess.Popen(
            launch_command(spec, run_dir, resume=resume),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=run_dir,
            env=child_environment(),
            start_new_session=True,
        )
    (run_dir / protocol.PID_FILE).write_text(str(process.pid), encoding="utf-8")
    # Reap it when it ends, so a finished child never lingers as a zombie of a long-lived parent (the TUI).
    threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
    return process.pid


def prepare_spec(spec: dict | Path | str) -> dict:
    """Load (when a path), fill defaults and validate; raises SpecError listing every problem."""
    source = None
    if isinstance(spec, (str, Path)):
        source = str(spec)
        spec = load_spec(spec)
    else:
        # The child runs in its run folder: relative paths in a spec built in code mean the caller's folder.
        spec = resolve_paths(spec, Path.cwd())
    errors = validate_spec(spec)
    if errors:
        raise SpecError(errors, source=source)
    return complete_spec(spec)


def launch_run(spec: dict | Path | str, runs_dir: Path | None = None) -> RunInfo:
    full = prepare_spec(spec)
    runs_dir = Path(runs_dir or default_runs_dir())
    runs_dir.mkdir(parents=True, exist_ok=True)
    run_dir = runs_dir / new_run_id(full)
    run_dir.mkdir()
    (run_dir / "spec.toml").write_text(dump_spec(full), encoding="utf-8")
    _start_child(full, run_dir, resume=False)
    return read_run(run_dir)


# Reading -------------------------------------------------------------------------------------


def _process_alive(pid: int | None, run_dir: Path) -> bool:
    """Alive, not a zombie, and really ours (its command line names the run folder)."""
    if not pid:
        return False
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return any(run_dir.name in part for part in process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def run_pids(run_dir: Path, events: list | None = None) -> list[int]:
    pids = [protocol.read_pid(run_dir)]
    for event in events if events is not None else protocol.read_events(run_dir / "events.jsonl"):
        if isinstance(event, protocol.RunStarted) and event.pid:
            pids.append(event.pid)
    return [pid for pid in dict.fromkeys(pids) if pid]


def is_alive(run_dir: Path, events: list | None = None) -> bool:
    return any(_process_alive(pid, run_dir) for pid in run_pids(run_dir, events))


def log_tail(run_dir: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(run_dir / "stdout.log", "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(0, size - 64 * 1024))
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _launched_at(run_dir: Path) -> float:
    try:
        return float((run_dir / LAUNCHED_FILE).read_text())
    except (OSError, ValueError):
        return 0.0


def _load_spec_quietly(run_dir: Path) -> dict:
    import tomllib

    try:
        return tomllib.loads((run_dir / "spec.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def describe_data(spec: dict) -> str:
    data = spec.get("data", {})
    if data.get("dataset"):
        return data["dataset"]
    return Path(data.get("train_file", "")).name or "?"


# A long run's events file takes about a second to parse per 100,000 steps, and the runs list is
# read again every few seconds: keep each folder's answer until one of its files changes.
_READ_CACHE: dict[Path, tuple[tuple, RunInfo, list[int]]] = {}
_CACHE_KEY_FILES = ("events.jsonl", "spec.toml", LAUNCHED_FILE, protocol.PID_FILE)


def _files_key(run_dir: Path) -> tuple:
    key = []
    for name in _CACHE_KEY_FILES:
        try:
            stat = (run_dir / name).stat()
            key.append((stat.st_size, stat.st_mtime_ns))
        except OSError:
            key.append(None)
    return tuple(key)


def read_run(run_dir: Path) -> RunInfo:
    """The run's state from its files; a dead child with no final event is marked crashed (durably)."""
    run_dir = Path(run_dir)
    key = _files_key(run_dir)
    cached = _READ_CACHE.get(run_dir)
    if cached is not None and cached[0] == key:
        _, info, pids = cached
        if info.status not in ("starting", "running") or any(_process_alive(pid, run_dir) for pid in pids):
            return info
    info, events = _read_run_files(run_dir)
    _READ_CACHE[run_dir] = (
        key,
        info,
        run_pids(run_dir, events),
    )  # the key from before reading: a write meanwhile re-reads
    return info


def _read_run_files(run_dir: Path) -> tuple[RunInfo, list]:
    spec = _load_spec_quietly(run_dir)
    events = protocol.read_events(run_dir / "events.jsonl")
    info = _info_from_events(run_dir, spec, events)
    if info.status in ("starting", "running") and not is_alive(run_dir, events):
        # Read again: the child may have written its final event just before exiting.
        events = protocol.read_events(run_dir / "events.jsonl")
        info = _info_from_events(run_dir, spec, events)
        if info.status in ("starting", "running"):
            _record_crash(run_dir)
            events = protocol.read_events(run_dir / "events.jsonl")
            info = _info_from_events(run_dir, spec, events)
    return info, events


def _record_crash(run_dir: Path, error: str | None = None) -> None:
    tail = log_tail(run_dir)
    message = error or "The training process died without a final event (killed, or out of memory)."
    suggestion = None
    if "out of memory" in tail.lower():
        from workbench.training.guards import OOM_SUGGESTION

        suggestion = OOM_SUGGESTION
    events_path = run_dir / "events.jsonl"
    _end_partial_line(events_path)
    with protocol.EventWriter(events_path) as writer:
        writer.emit(protocol.Failed(error=message, traceback=tail, suggestion=suggestion, status="crashed"))


def _end_partial_line(path: Path) -> None:
    """A child killed mid-write leaves half a line; start ours on a fresh one so it stays readable."""
    try:
        with open(path, "rb+") as file:
            file.seek(0, os.SEEK_END)
            if file.tell() == 0:
                return
            file.seek(-1, os.SEEK_END)
            if file.read(1) != b"\n":
                file.write(b"\n")
    except FileNotFoundError:
        pass


def _info_from_events(run_dir: Path, spec: dict, events: list) -> RunInfo:
    model = spec.get("model", {}).get("name_or_path", "?")
    status, started_at, ended_at, step, total = "starting", None, None, 0, None
    best, error, child_pid = None, None, None
    last_final_time = 0.0
    for event in events:
        if isinstance(event, protocol.RunStarted):
            status, ended_at, error = "running", None, None
            started_at = started_at or event.time
            total, child_pid = event.total_steps, event.pid
        elif isinstance(event, protocol.Step):
            step = event.step
        elif isinstance(event, protocol.Finished):
            status, ended_at, last_final_time = event.status, event.time, event.time
            step = max(step, int(event.summary.get("steps") or 0))
            summary_best = event.summary.get("best_metric")
            if summary_best:
                best = (summary_best["name"], float(summary_best["value"]))
        elif isinstance(event, protocol.Failed):
            status, ended_at, last_final_time = event.status, event.time, event.time
            error = event.error
        elif isinstance(event, protocol.Evaluation):
            best = _better(best, event.metrics, spec)
    launched = _launched_at(run_dir)
    if status in FINAL_STATUSES and launched > last_final_time:
        status, ended_at = "starting", None  # resumed: the new child has not started its loop yet
    if started_at is None:
        started_at = launched or None
    pid = child_pid or protocol.read_pid(run_dir)
    return RunInfo(
        run_id=run_dir.name,
        path=run_dir,
        status=status,
        model=model,
        dataset=describe_data(spec),
        started_at=started_at,
        ended_at=ended_at,
        step=step,
        total_steps=total,
        best_metric=best,
        pid=pid,
        error=error,
    )


def _better(best, metrics: dict, spec: dict):
    training = spec.get("training", {})
    names = training.get("metrics") or []
    name = training.get("metric_for_best_model") or next((n for n in names if n in metrics), "eval_loss")
    name = "eval_loss" if name == "loss" else name
    if name not in metrics:
        return best
    value = float(metrics[name])
    if best is None:
        return (name, value)
    lower_is_better = "loss" in name
    if (value < best[1]) if lower_is_better else (value > best[1]):
        return (name, value)
    return best


def list_runs(runs_dir: Path | None = None) -> list[RunInfo]:
    """Every run folder, newest first. A folder that cannot be read is listed as failed, never raised."""
    runs_dir = Path(runs_dir or default_runs_dir())
    if not runs_dir.is_dir():
        return []
    infos = []
    for folder in sorted((p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True):
        try:
            infos.append(read_run(folder))
        except Exception as error:  # a corrupt folder must not hide the others
            infos.append(
                RunInfo(
                    folder.name,
                    folder,
                    "failed",
                    "?",
                    "?",
                    None,
                    None,
                    0,
                    None,
                    None,
                    None,
                    error=f"unreadable run folder: {error}",
                )
            )
    # Run ids begin with their creation time, so the folder order is the age order.
    return infos


def read_summary(run_dir: Path) -> dict | None:
    try:
        return json.loads((Path(run_dir) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# Control -------------------------------------------------------------------------------------


def stop_run(run_dir: Path) -> None:
    """Ask the child to finish its step, checkpoint and end as "stopped"."""
    run_dir = Path(run_dir)
    info = read_run(run_dir)
    if not info.is_active:
        raise WorkbenchError(f"Run {info.run_id} is not running (it is {info.status}).")
    (run_dir / "control").mkdir(exist_ok=True)
    (run_dir / STOP_FILE).write_text(repr(time.time()), encoding="utf-8")


def kill_run(run_dir: Path, wait_s: float = 5.0) -> None:
    """SIGKILL the run's process group; the run then reads as crashed (killed on request)."""
    run_dir = Path(run_dir)
    events = protocol.read_events(run_dir / "events.jsonl")
    pids = [pid for pid in run_pids(run_dir, events) if _process_alive(pid, run_dir)]
    if not pids:
        read_run(run_dir)  # records a crash if the child died unnoticed
        return
    for pid in pids:
        try:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + wait_s
    while any(_process_alive(pid, run_dir) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    info = _info_from_events(run_dir, _load_spec_quietly(run_dir), protocol.read_events(run_dir / "events.jsonl"))
    if info.is_active:
        _record_crash(run_dir, "Killed on request (SIGKILL).")


def resume_run(run_dir: Path) -> RunInfo:
    """A new child continuing from the last checkpoint in the same folder (steps and loss curve continue)."""
    from workbench.training.checkpoints import latest_checkpoint

    run_dir = Path(run_dir)
    info = read_run(run_dir)
    if info.is_active:
        raise WorkbenchError(f"Run {info.run_id} is still {info.status}; stop it before resuming.")
    if latest_checkpoint(run_dir) is None:
        raise WorkbenchError(
            f"Run {info.run_id} has no checkpoint to resume from.",
            hint="Checkpoints are written every training.save_steps steps, at each epoch end and on stop.",
        )
    spec = _load_spec_quietly(run_dir)
    if not spec:
        raise WorkbenchError(f"Run {info.run_id} has no readable spec.toml.")
    try:
        (run_dir / STOP_FILE).unlink()
    except FileNotFoundError:
        pass
    _start_child(spec, run_dir, resume=True)
    return read_run(run_dir)
