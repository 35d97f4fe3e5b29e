"""Launching runs, and the owner's side of a run: start, resume, stop, kill, and recording a crash.

A run is started as a small supervisor (`python -m workbench.training.launch`, this module) in a session of
its own (start_new_session), so it outlives the TUI, the terminal and an SSH hang-up. The supervisor runs
`accelerate launch ... -m workbench.training.child` and waits for it; when the child ends without a final
event (SIGKILL, out of memory) the supervisor, which owns the run, writes the "crashed" record with the tail
of stdout.log. Readers never write (see `workbench.core.runs.listing`).

One owner per run: the launcher takes the run's lock (`core/runs/folder.py` explains it) and hands it to the
supervisor, which hands it to `accelerate launch`; a second `resume`/`train` of the same run gets "already
running". Every path is made absolute here, once. Nothing here imports torch.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from workbench.core.errors import WorkbenchError
from workbench.core.runs import protocol
from workbench.core.runs.folder import (
    CONTROL_DIR,
    EVENTS_FILE,
    KILL_FILE,
    LAUNCHED_FILE,
    PID_FILE,
    PREPARED_FILE,
    SPEC_FILE,
    STDOUT_FILE,
    STOP_FILE,
    RunBusy,
    absolute,
    acquire_lock,
    clear_requests,
    is_run_folder,
    process_alive,
    runs_dir,
)
from workbench.core.runs.listing import (
    PREPARED,
    RunInfo,
    crash_message,
    info_from_events,
    launched_at,
    load_spec_quietly,
    log_tail,
    read_events,
    read_run,
    run_pids,
)
from workbench.training.spec import (
    EMBEDDED_MODEL,
    FieldError,
    SpecError,
    complete_spec,
    dump_spec,
    load_spec,
    resolve_paths,
    validate_spec,
)

PACKAGE_PARENT = Path(__file__).resolve().parents[2]
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
FSDP_FLAGS = (
    "--use_fsdp --fsdp_version 2 --fsdp_auto_wrap_policy TRANSFORMER_BASED_WRAP"
    " --fsdp_state_dict_type SHARDED_STATE_DICT --fsdp_reshard_after_forward true"
).split()
ENDING_WAIT_S = 20.0  # how long a resume waits for a run that wrote its final event to finish exiting


# Run ids ---------------------------------------------------------------------------------------


def model_short_name(name_or_path: str) -> str:
    if name_or_path == EMBEDDED_MODEL:
        return "minilm"
    short = Path(name_or_path.rstrip("/")).name or "model"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", short).strip("-.")[:24] or "model"


def new_run_id(spec: dict, now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now or time.time()))
    return f"{stamp}-{model_short_name(spec['model']['name_or_path'])}-{secrets.token_hex(2)}"


# The command -----------------------------------------------------------------------------------


def gpu_count() -> int:
    """NVIDIA GPUs visible to NVML (0 without a driver); cheap, no torch."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            return pynvml.nvmlDeviceGetCount()
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # noqa: BLE001  no library, no driver: no GPU
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


def launch_command(
    spec: dict, run_dir: Path, *, resume: bool = False, gpus: int | None = None, machine_rank: int | None = None
) -> list[str]:
    """The child's command: `accelerate launch` for several processes, several machines (always; the
    node's rank is `machine_rank`, else the spec's) or a user's Accelerate config; one process starts the
    child directly. Its Accelerator is built from the spec's settings either way, and the launcher would
    only add a Python start and a second import of torch (2-4 s of a short job's wall time)."""
    from workbench.training import nodes

    training = spec["training"]
    several = nodes.machines(spec) > 1
    gpus = gpu_count() if gpus is None else gpus
    # On several machines num_processes counts one machine's processes, and `--cpu` is never passed (its
    # launcher starts no process group): the command may be printed on a login node without GPUs.
    on_cpu = (bool(training.get("use_cpu")) or gpus == 0) and not several
    if several:
        processes = training.get("num_processes", 1)
    else:
        processes = 1 if on_cpu else min(training.get("num_processes", 1), gpus)
    child = ["-m", "workbench.training.child", "--run-dir", str(absolute(run_dir))] + (["--resume"] if resume else [])
    threads = ["--cpu-threads", str(cpu_threads())] if on_cpu or (several and training.get("use_cpu")) else []
    if processes == 1 and not training.get("accelerate_config") and not several:
        return [sys.executable, *child, *threads]
    command = [sys.executable, "-m", "accelerate.commands.launch"]
    if several:
        rank = training.get("machine_rank", 0) if machine_rank is None else machine_rank
        command += nodes.node_flags(spec, rank, processes)
    else:
        command += ["--num_machines", "1", "--num_processes", str(processes)]
    command += ["--mixed_precision", training.get("mixed_precision", "no"), "--dynamo_backend", "no"]
    if training.get("accelerate_config"):
        # The user's Accelerate config; the flags above still win where they are given.
        command += ["--config_file", str(absolute(training["accelerate_config"]))]
    if on_cpu:
        command += ["--cpu", "--num_cpu_threads_per_process", str(cpu_threads())]
        threads = []
    elif processes > 1 and training.get("distributed") == "fsdp":
        # FSDP2, one shard per GPU, wrapping the model's own blocks (its `_no_split_modules`).
        command += FSDP_FLAGS
    elif processes > 1 or several:
        # torchrun's launcher, also for CPU nodes (Accelerate's --cpu launcher starts no process group;
        # the child's Accelerator(cpu=True) then joins one over gloo).
        command.append("--multi_gpu")
    # The child runs in its run folder: a relative --run-dir would be doubled (`child` is absolute).
    return command + child + threads


def child_environment() -> dict[str, str]:
    env = os.environ.copy()
    # The child must import this workbench even when it is not pip-installed.
    paths = [str(PACKAGE_PARENT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    return env


def supervisor_command(run_dir: Path, lock_fd: int, child_command: list[str]) -> list[str]:
    """The supervisor's command line, around the child's (`launch_command`)."""
    run_dir = absolute(run_dir)
    head = [sys.executable, "-m", "workbench.training.launch", "--run-dir", str(run_dir), "--lock-fd", str(lock_fd)]
    return head + ["--", *child_command]


def _start_child(spec: dict, run_dir: Path, resume: bool, lock_fd: int) -> int:
    """Start the supervisor, handing it the run's lock; returns its pid. The caller then closes `lock_fd`.

    A one-process run goes to a spare started ahead when one is waiting (`spare.py`: its imports are done),
    and a new spare is started for the next run (unless `WORKBENCH_SPARE_RUN=0`)."""
    from workbench.training import spare

    (run_dir / CONTROL_DIR).mkdir(parents=True, exist_ok=True)
    previous = launched_at(run_dir)
    (run_dir / LAUNCHED_FILE).write_text(repr(time.time()), encoding="utf-8")
    child_command = launch_command(spec, run_dir, resume=resume)
    environment = child_environment()
    child_args = spare.child_arguments(child_command) if spare.enabled() else None
    if child_args is not None:
        pid = spare.hand_off(run_dir.parent, run_dir, child_args, lock_fd, environment)
        try:
            spare.start_spare(run_dir.parent, environment, after=run_dir)
        except OSError as error:  # a spare is an optimisation: the run goes on without one
            print(f"workbench: could not start a spare run process: {error}", file=sys.stderr)
        if pid is not None:
            (run_dir / PID_FILE).write_text(str(pid), encoding="utf-8")
            return pid
    try:
        with open(run_dir / STDOUT_FILE, "ab") as log:
            process = subprocess.Popen(
                supervisor_command(run_dir, lock_fd, child_command),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=run_dir,
                env=environment,
                start_new_session=True,
                pass_fds=(lock_fd,),
            )
    except BaseException:
        (run_dir / LAUNCHED_FILE).write_text(repr(previous), encoding="utf-8")
        raise
    (run_dir / PID_FILE).write_text(str(process.pid), encoding="utf-8")
    # Reap it when it ends, so a finished child never lingers as a zombie of a long-lived parent (the TUI).
    threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
    return process.pid


def start_spare_ahead(runs_dir: Path) -> int | None:
    """A spare for the next run in `runs_dir`, started now (the TUI's start form: a run is likely to come,
    and the user takes longer to fill the form than the spare to import); its pid, or None (spares off,
    one alive already, or it could not start)."""
    from workbench.training import spare

    if not spare.enabled():
        return None
    try:
        return spare.start_spare(Path(runs_dir), child_environment())
    except OSError:
        return None  # a spare only saves time


def prepare_spec(spec: dict | Path | str, *, check_network: bool = True) -> dict:
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
    full = complete_spec(spec)
    from workbench.training.preflight import column_problems

    # The columns the task reads, against the data files' headers (read, not loaded).
    problems = column_problems(full["data"], full["model"]["head"])
    errors = [FieldError(field, message) for field, message in problems.items()]
    if not errors and check_network:  # a multi-node spec: a name that does not resolve, a busy port
        from workbench.training.nodes import launch_problems

        errors = launch_problems(full)
    if errors:
        raise SpecError(errors, source=source)
    return full


def _free_space(folder: Path) -> str:
    from workbench.core.formatting import mebibytes

    try:
        return mebibytes(shutil.disk_usage(folder).free / 2**20)
    except OSError:
        return "?"


def no_space_error(folder: Path) -> WorkbenchError:
    return WorkbenchError(
        f"No space left on device: {_free_space(folder)} free in {folder}.",
        hint="Free some space, or set runs_dir (WORKBENCH_RUNS_DIR) to a folder on another disk.",
    )


def launch_run(
    spec: dict | Path | str, runs_directory: Path | None = None, *, start: bool = True, check_network: bool = True
) -> RunInfo:
    """Create the run folder (whole or not at all: built under a hidden name, then renamed) and start its
    child; `start=False` only creates it (for `nodes.node_commands`), `check_network=False` skips DNS/port."""
    full = prepare_spec(spec, check_network=check_network)
    base = absolute(runs_directory) if runs_directory is not None else runs_dir()
    run_id = new_run_id(full)
    building = base / f".{run_id}.creating"
    run_dir = base / run_id
    lock_fd, made = None, []  # made: the folders this call created, the only ones it may remove
    try:
        base.mkdir(parents=True, exist_ok=True)
        building.mkdir()
        made.append(building)
        lock_fd = acquire_lock(building)
        (building / SPEC_FILE).write_text(dump_spec(full), encoding="utf-8")
        if not start:  # read as "prepared", not "crashed", until one of its machines starts it
            (building / CONTROL_DIR).mkdir(exist_ok=True)
            (building / PREPARED_FILE).touch()
        if run_dir.exists():
            raise FileExistsError(errno.EEXIST, "a run with this id exists", str(run_dir))
        os.rename(building, run_dir)
        made[0] = run_dir
        if start:
            _start_child(full, run_dir, resume=False, lock_fd=lock_fd)
    except BaseException as error:
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)
        if not isinstance(error, OSError):
            raise
        if error.errno in NO_SPACE:
            raise no_space_error(base) from None
        raise WorkbenchError(
            f"Cannot create the run folder in {base}: {error.strerror or error}.",
            hint="Check that the runs folder is writable (runs_dir in the settings, or WORKBENCH_RUNS_DIR).",
        ) from None
    finally:
        if lock_fd is not None:
            os.close(lock_fd)  # the supervisor holds its own copy from here on
    return read_run(run_dir)


# The owner's records ---------------------------------------------------------------------------


def crash_event(run_dir: Path, error: str | None = None) -> protocol.Failed:
    tail = log_tail(run_dir)
    # A corrupt events file is named as such, not taken for a killed child (as `read_run` reads it).
    message, suggestion = error or crash_message(run_dir, read_events(run_dir)), None
    if "out of memory" in tail.lower():
        from workbench.training.guards import OOM_SUGGESTION

        suggestion = OOM_SUGGESTION
    elif "no space left on device" in tail.lower() and error is None:
        message = f"The training process died: no space left on device ({_free_space(run_dir)} free in {run_dir})."
        suggestion = "Free some space, then resume the run from its last checkpoint."
    return protocol.Failed(error=message, traceback=tail, suggestion=suggestion, status="crashed")


def _end_partial_line(path: Path) -> None:
    """A child killed mid-write leaves half a line; start ours on a fresh one so it stays readable."""
    try:
        with open(path, "rb+") as file:
            if file.seek(0, os.SEEK_END) == 0:
                return
            file.seek(-1, os.SEEK_END)
            if file.read(1) != b"\n":
                file.write(b"\n")
    except FileNotFoundError:
        pass


def record_crash(run_dir: Path, error: str | None = None) -> None:
    """Append the "crashed" record. Only the run's owner calls this (the supervisor, or a holder of the lock)."""
    events_path = Path(run_dir) / EVENTS_FILE
    _end_partial_line(events_path)
    with protocol.EventWriter(events_path) as writer:
        writer.emit(crash_event(Path(run_dir), error))


def _ended_since_launch(run_dir: Path, events: list) -> bool:
    launched = launched_at(run_dir)
    return any(protocol.is_final(event) and event.time >= launched for event in events)


def _unfinished(run_dir: Path) -> bool:
    """The events say the latest session has not ended (no final record since its launch)."""
    events = read_events(run_dir).events
    info = info_from_events(run_dir, load_spec_quietly(run_dir), events)
    return info.is_active and not _ended_since_launch(run_dir, events)


def record_crash_if_orphaned(run_dir: Path, error: str | None = None, wait_s: float = 0.5) -> bool:
    """Write the crash record of a run whose lock is free and whose processes are all gone, and that has no
    final record since its launch. True when it wrote one."""
    run_dir = Path(run_dir)
    try:
        fd = acquire_lock(run_dir, wait_s)
    except (WorkbenchError, OSError):  # busy, or not lockable: not ours to write
        return False
    try:
        events = read_events(run_dir).events
        if not _unfinished(run_dir) or any(process_alive(pid, run_dir) for pid in run_pids(run_dir, events)):
            return False
        try:
            record_crash(run_dir, error)
        except OSError:  # a full or read-only disk: the crash still reads as one (lock free, pids gone)
            return False
        return True
    finally:
        os.close(fd)


# Control ---------------------------------------------------------------------------------------


def stop_run(run_dir: Path) -> None:
    """Ask the child to finish its step, checkpoint and end as "stopped"."""
    run_dir = absolute(run_dir)
    info = read_run(run_dir)
    if not info.is_active:
        raise WorkbenchError(f"Run {info.run_id} is not running (it is {info.status}).")
    (run_dir / CONTROL_DIR).mkdir(exist_ok=True)
    (run_dir / STOP_FILE).write_text(repr(time.time()), encoding="utf-8")


def kill_run(run_dir: Path, wait_s: float = 5.0) -> None:
    """SIGKILL the run's process group; the run then reads as crashed (killed on request). Over several
    machines, `control/kill` too: every other node's sampler reads it and kills its own node."""
    run_dir = absolute(run_dir)
    spec = load_spec_quietly(run_dir)
    if int((spec.get("training") or {}).get("num_machines", 1) or 1) > 1:
        (run_dir / CONTROL_DIR).mkdir(exist_ok=True)
        (run_dir / KILL_FILE).write_text(repr(time.time()), encoding="utf-8")
    pids = [pid for pid in run_pids(run_dir) if process_alive(pid, run_dir)]
    if not pids:
        info = read_run(run_dir)
        if not info.is_active and not _unfinished(run_dir):
            raise WorkbenchError(f"Run {info.run_id} is not running (it is {info.status}); there is nothing to kill.")
    for pid in pids:
        try:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + wait_s
    while any(process_alive(pid, run_dir) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    record_crash_if_orphaned(run_dir, "Killed on request (SIGKILL)." if pids else None, wait_s=max(0.5, wait_s))


def _take_for_resume(run_dir: Path) -> int:
    """The run's lock for a resume. A run that wrote its final event may take a moment to exit: wait for it."""
    try:
        return acquire_lock(run_dir)
    except RunBusy:
        if _unfinished(run_dir):
            raise
        return acquire_lock(run_dir, ENDING_WAIT_S)


def _check_resumable(run_dir: Path, info: RunInfo) -> dict:
    """The spec to resume with; raises WorkbenchError when the run cannot be resumed (nothing written)."""
    from workbench.training.checkpoints import latest_checkpoint

    if info.status == "finished":
        raise WorkbenchError(
            f"Run {info.run_id} has finished; there is nothing to resume (its final/ and summary.json are kept).",
            hint="To train more, start a new run with `workbench train`.",
        )
    if info.status == PREPARED:
        raise WorkbenchError(f"Run {info.run_id} has not started.", hint=info.error)
    if latest_checkpoint(run_dir) is None:
        raise WorkbenchError(
            f"Run {info.run_id} has no checkpoint to resume from.",
            hint="Checkpoints are written every training.save_steps steps, at each epoch end and on stop.",
        )
    spec = load_spec_quietly(run_dir)
    if not isinstance(spec.get("training"), dict) or not isinstance(spec.get("model"), dict):
        raise WorkbenchError(f"Run {info.run_id} has no readable {SPEC_FILE}; it cannot be resumed.")
    # A spec.toml edited into values training rejects (learning_rate = "fast") would fail the resumed child and
    # turn a stopped run into a failed one. Unknown keys are let through: another workbench version wrote them.
    errors = [
        error
        for error in validate_spec(spec, check_files=False, base_dir=run_dir)
        if not error.message.startswith(("unknown key", "unknown section"))
    ]
    if errors:
        raise SpecError(errors, source=str(run_dir / SPEC_FILE))
    return spec


def resume_run(run_dir: Path) -> RunInfo:
    """A new child continuing from the last checkpoint in the same folder (steps and loss curve continue)."""
    run_dir = absolute(run_dir)
    if not is_run_folder(run_dir):
        raise WorkbenchError(f"{run_dir} is not a run folder.", hint="List runs with `workbench runs`.")
    seen = read_run(run_dir)
    if seen.is_active:
        raise RunBusy(
            f"Run {seen.run_id} is already running (it is {seen.status}); stop it before resuming.",
            hint=f"Follow it with `workbench attach {seen.run_id}`.",
        )
    spec = _check_resumable(run_dir, seen)  # refused before the lock file is even created: nothing changes on disk
    machines = int(spec["training"].get("num_machines", 1) or 1)
    if machines > 1:
        raise WorkbenchError(
            f"Run {seen.run_id} runs on {machines} machines: each one resumes with its own command.",
            hint=f"Print them with `workbench resume {seen.run_id} --print-launch` and run each on its machine.",
        )
    fd = _take_for_resume(run_dir)
    try:
        # Again under the lock: another launcher may have resumed it meanwhile.
        read = read_events(run_dir)
        info = info_from_events(run_dir, load_spec_quietly(run_dir), read.events)
        if info.is_active:
            if any(process_alive(pid, run_dir) for pid in run_pids(run_dir, read.events)):
                raise RunBusy(f"Run {info.run_id} is already running (it is {info.status}); stop it before resuming.")
            record_crash(run_dir)  # we own it now: the earlier session's end is written before the next starts
            info.status = "crashed"
        spec = _check_resumable(run_dir, info)
        clear_requests(run_dir)
        try:
            _start_child(spec, run_dir, resume=True, lock_fd=fd)
        except OSError as error:
            if error.errno in NO_SPACE:
                raise no_space_error(run_dir) from None
            raise WorkbenchError(f"Cannot resume run {info.run_id}: {error.strerror or error}.") from None
    finally:
        os.close(fd)
    return read_run(run_dir)


# The supervisor --------------------------------------------------------------------------------


def supervise(run_dir: Path, command: list[str], lock_fd: int) -> int:
    """Run the child command, holding the run's lock, and record a crash when it ends without a final event."""
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, cwd=run_dir, pass_fds=(lock_fd,))
    return watch_child(run_dir, process, lock_fd)


def watch_child(run_dir: Path, process: subprocess.Popen, lock_fd: int) -> int:
    """Wait for the run's child (holding `lock_fd`, the run's lock), forwarding stop signals to it, and
    record a crash when it ends without a final event. Also the supervisor's part of a spare (`spare.py`)."""

    def forward(signum, frame) -> None:  # `kill PID` of the pid file reaches the child too
        try:
            process.send_signal(signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    code = process.wait()
    if is_run_folder(run_dir) and _unfinished(run_dir):
        try:
            record_crash(run_dir)
        except OSError as error:  # a full disk: readers still see the crash (the lock is free, the pids gone)
            print(f"workbench: could not record the crash in {run_dir}: {error}", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    run_dir = absolute(options[options.index("--run-dir") + 1])
    if "--lock-fd" in options:
        lock_fd = int(options[options.index("--lock-fd") + 1])
    else:  # started by hand on a multi-node run's main machine (`node_commands`)
        from workbench.training.nodes import take_run

        lock_fd = take_run(run_dir)
    return supervise(run_dir, command, lock_fd)


if __name__ == "__main__":
    raise SystemExit(main())
