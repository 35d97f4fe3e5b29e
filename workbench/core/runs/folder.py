"""The run folder: its file names, finding a run by name, whether its process lives, and its lock.

A run is a folder under the runs directory, named `<YYYYmmdd-HHMMSS>-<model>-<hex>`:

    spec.toml          the full spec the run was started with (written by the launcher)
    events.jsonl       the event log (see `protocol`), appended by the child and, for a crash, by the owner
    stdout.log         the child's stdout and stderr
    pid                the launched process (`accelerate launch`), written by the launcher
    lock               the ownership lock (below); absent in folders written before it existed
    control/stop       asks the child to stop after its step; control/launched: time of the latest launch
    checkpoints/checkpoint-N/   resumable states; final/: the trained model; summary.json: the results

The lock, one owner per run: the launcher (`workbench train`, `resume`, the TUI) opens `lock` and takes an
exclusive `flock` on it before starting the child, and hands that open file to the launched process
(`subprocess.Popen(pass_fds=...)`), then closes its own copy. An flock belongs to the open file, not to a
process, so the launched process holds the lock for as long as it lives, after the CLI or TUI that started
it has exited. The child needs to do nothing: it must only not close file descriptors it did not open (Python
never does). A second launcher finds the lock taken and says "already running"; a reader that finds it free
and the run's pids dead knows the child is gone. Readers probe with a shared, non-blocking lock that they
release at once; they never create the file.

Textual-free and cheap to import (psutil is imported when a pid is checked).
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path

from workbench.core.errors import WorkbenchError

EVENTS_FILE = "events.jsonl"
SPEC_FILE = "spec.toml"
STDOUT_FILE = "stdout.log"
PID_FILE = "pid"
LOCK_FILE = "lock"
SUMMARY_FILE = "summary.json"
FINAL_DIR = "final"
CHECKPOINTS_DIR = "checkpoints"
PREDICTIONS_DIR = "predictions"  # per-example predictions of each evaluation: step-<N>.parquet
CHECKPOINT_PREFIX = "checkpoint-"
CONTROL_DIR = "control"
STOP_FILE = f"{CONTROL_DIR}/stop"
KILL_FILE = f"{CONTROL_DIR}/kill"  # several machines: every node's sampler kills its own processes
LAUNCHED_FILE = f"{CONTROL_DIR}/launched"  # time of the latest launch (a resume re-launches)
PREPARED_FILE = f"{CONTROL_DIR}/prepared"  # made by `--print-launch` or `workbench slurm`: its machines start it
SLURM_SCRIPT_FILE = "slurm.sbatch"
HUB_PUSHES_FILE = "hub_pushes.jsonl"
# Any of these makes a folder a run folder (a run being created has spec.toml before anything else).
MARKER_FILES = (SPEC_FILE, EVENTS_FILE, PID_FILE)
LATEST = "latest"


def runs_dir() -> Path:
    """The runs directory from the settings, made absolute once here (a relative setting means the cwd)."""
    from workbench.core.settings import load_settings

    return absolute(load_settings().runs_path)


def absolute(path: str | Path) -> Path:
    """`~` expanded and made absolute against the current directory, once, at the boundary."""
    return Path(os.path.abspath(Path(path).expanduser()))


def is_run_folder(path: Path) -> bool:
    path = Path(path)
    try:
        return path.is_dir() and any((path / name).exists() for name in MARKER_FILES)
    except OSError:
        return False


def run_folders(runs_directory: Path) -> list[Path]:
    """The run folders in a runs directory, newest first (run ids begin with their creation time).

    Folders whose name starts with a dot (a run being created) are not runs yet."""
    try:
        entries = list(Path(runs_directory).iterdir())
    except OSError:
        return []
    return sorted((p for p in entries if not p.name.startswith(".") and is_run_folder(p)), reverse=True)


def resolve_run(target: str | Path, runs_directory: Path | None = None) -> Path:
    """The one run resolver of every command: an absolute run folder from a path, a run id, `latest` (the
    newest run), or a unique part of an id (`workbench attach 9c4e`). Raises WorkbenchError saying what to do."""
    text = str(target).strip()
    if not text:
        raise WorkbenchError("No run given.", hint="Give a run id, a unique part of one, a run folder or 'latest'.")
    base = absolute(runs_directory) if runs_directory is not None else runs_dir()
    candidate = absolute(text)
    if is_run_folder(candidate):
        return candidate
    if os.sep in text or text.startswith(".") or text.startswith("~"):
        if candidate.exists():
            raise WorkbenchError(
                f"{text} is not a run folder (it has no {SPEC_FILE} or {EVENTS_FILE}).",
                hint="Give a run folder, or a run id from `workbench runs`.",
            )
        raise WorkbenchError(f"No run folder {text}.", hint="List runs with `workbench runs`.")
    if is_run_folder(base / text):
        return base / text
    folders = run_folders(base)
    if text == LATEST:
        if not folders:
            raise WorkbenchError(f"No runs yet in {base}.", hint="Start one with `workbench train SPEC`.")
        return folders[0]
    matches = [folder for folder in folders if text in folder.name]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        where = str(base) if base.is_dir() else f"{base} (the folder does not exist)"
        raise WorkbenchError(f"No run {text!r} in {where}.", hint="List runs with `workbench runs`.")
    names = ", ".join(folder.name for folder in matches[:5])
    raise WorkbenchError(f"{text!r} matches {len(matches)} runs: {names}.", hint="Give more of the run id.")


def read_pid(run_dir: Path) -> int | None:
    """The launched process's pid from the run folder; None while it is not written (or unreadable)."""
    try:
        value = int((Path(run_dir) / PID_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return value if value > 0 else None


def never_launched(run_dir: Path) -> bool:
    """A folder `--print-launch` or `workbench slurm` made (its `PREPARED_FILE`) with no launch time, no pid and
    no events: nothing
    has started it yet (its machines start it with the printed lines). A folder whose launcher died before
    writing its pid is not one: that launch crashed."""
    run_dir = Path(run_dir)
    if not (run_dir / PREPARED_FILE).exists():
        return False
    if (run_dir / LAUNCHED_FILE).exists() or (run_dir / PID_FILE).exists():
        return False
    try:
        return (run_dir / EVENTS_FILE).stat().st_size == 0
    except OSError:
        return True


def process_alive(pid: int | None, run_dir: Path | None = None) -> bool | None:
    """True/False for a known pid; None when there is no pid to ask about.

    A zombie is dead, and so is a process whose command line does not name the run folder (the pid was
    reused). A process we may not inspect (EPERM, psutil.AccessDenied) exists, so it counts as alive:
    calling a live run dead would let a reader declare it crashed, which is the worse mistake.
    """
    if not pid:
        return None
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return run_dir is None or any(Path(run_dir).name in part for part in process.cmdline())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True


# The lock ---------------------------------------------------------------------------------------


class RunBusy(WorkbenchError):
    """Another process owns the run (its lock is taken)."""


def lock_held(run_dir: Path) -> bool | None:
    """Whether some process holds the run's lock: True/False; None for a folder without a lock file
    (written before locks existed). Never creates or writes anything."""
    try:
        fd = os.open(Path(run_dir) / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return True
        return None
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def acquire_lock(run_dir: Path, wait_s: float = 0.5) -> int:
    """Take the run's exclusive lock and return its file descriptor (close it to release the lock).

    Waits up to `wait_s` (readers probe the lock for an instant); raises RunBusy when it stays taken, and
    WorkbenchError when the lock cannot be taken at all (a read-only folder, a filesystem without locks)."""
    path = Path(run_dir) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise WorkbenchError(f"Cannot lock run {Path(run_dir).name}: {error.strerror or error} ({path}).") from None
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise WorkbenchError(
                    f"Cannot lock run {Path(run_dir).name}: {error.strerror or error} ({path})."
                ) from None
            if time.monotonic() >= deadline:
                os.close(fd)
                raise RunBusy(
                    f"Run {Path(run_dir).name} is already running (another process owns it).",
                    hint=f"Follow it with `workbench attach {Path(run_dir).name}`, or stop it first.",
                ) from None
            time.sleep(0.02)


def owner_alive(run_dir: Path, pids: list[int] | tuple[int, ...] = ()) -> bool | None:
    """Is the run's process alive? True/False, None when nothing can tell (no lock file and no pid yet).

    The lock answers for the launched process; the pids (the pid file's and the child's own, from its
    `run_started` event) answer for a child that outlived it (its launcher killed alone)."""
    run_dir = Path(run_dir)
    held = lock_held(run_dir)
    if held:
        return True
    answers = [process_alive(pid, run_dir) for pid in dict.fromkeys([read_pid(run_dir), *pids]) if pid]
    if any(answers):
        return True
    if held is False or answers:
        return False
    return None


def clear_requests(run_dir: Path) -> None:
    """A resumed run starts with no stop or kill request pending."""
    for name in (STOP_FILE, KILL_FILE):
        try:
            (Path(run_dir) / name).unlink()
        except FileNotFoundError:
            pass
