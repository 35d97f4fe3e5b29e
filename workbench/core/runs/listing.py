"""Reading run folders: one run's state (`read_run`) and every run's (`list_runs`). Never writes.

A run's state is what its files say. A run whose events end without a final record while nothing owns it
(its lock is free and its pids are dead) reads as "crashed"; that is an answer, not a record: the crash is
written to events.jsonl only by the run's owner (see `workbench.training.launch`). Textual-free, no torch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import tomllib

from workbench.core.runs import protocol
from workbench.core.runs.best import as_number, better_evaluation
from workbench.core.runs.folder import (
    EVENTS_FILE,
    LAUNCHED_FILE,
    PID_FILE,
    SLURM_SCRIPT_FILE,
    SPEC_FILE,
    STDOUT_FILE,
    SUMMARY_FILE,
    never_launched,
    owner_alive,
    read_pid,
    run_folders,
    runs_dir,
)

# "prepared": a folder `--print-launch` or `workbench slurm` made, not started yet (neither active nor final).
PREPARED = "prepared"
RUN_STATUSES = ("starting", "running", "finished", "stopped", "crashed", "failed", PREPARED)
FINAL_STATUSES = ("finished", "stopped", "crashed", "failed")
ACTIVE_STATUSES = ("starting", "running")
LOG_TAIL_LINES = 40
CRASH_MESSAGE = "The training process died without a final event (killed, or out of memory)."


def prepared_message(run_dir: Path) -> str:
    run_id = Path(run_dir).name
    if (Path(run_dir) / SLURM_SCRIPT_FILE).exists():
        return f"Not started: its Slurm job ({SLURM_SCRIPT_FILE}) has not begun; `squeue --me` shows it."
    # The second line of the monitor's header: the command first, so a narrow terminal cuts only the rest.
    return f"Not started: `workbench resume {run_id} --print-launch` prints its lines (line 1: main machine)."


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
    skipped_lines: int = 0  # lines of events.jsonl skipped as invalid records (each one alone)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


@dataclass
class EventsRead:
    events: list[protocol.Event]
    skipped_lines: int = 0
    newer_lines: int = 0


def read_events(run_dir: Path) -> EventsRead:
    reader = protocol.EventReader(Path(run_dir) / EVENTS_FILE)
    events = reader.poll()
    return EventsRead(events, reader.bad_lines, reader.newer_lines)


def launched_at(run_dir: Path) -> float:
    try:
        return float((Path(run_dir) / LAUNCHED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return 0.0


def load_spec_quietly(run_dir: Path) -> dict:
    try:
        spec = tomllib.loads((Path(run_dir) / SPEC_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return spec if isinstance(spec, dict) else {}


def describe_data(spec: dict) -> str:
    data = spec.get("data")
    data = data if isinstance(data, dict) else {}
    if data.get("dataset"):
        return str(data["dataset"])
    train = Path(str(data.get("train_file") or ""))
    # GLUE and most dataset folders call every training file train.*: the folder names the dataset.
    return f"{train.parent.name}/{train.name}" if train.parent.name and train.name else train.name or "?"


def log_tail(run_dir: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(Path(run_dir) / STDOUT_FILE, "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(0, size - 64 * 1024))
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    from workbench.core.formatting import without_escapes

    # Plain text: the tail is quoted in crash events, reports and the app, never replayed on a terminal.
    return "\n".join(without_escapes(text).splitlines()[-lines:])


def read_summary(run_dir: Path) -> dict | None:
    try:
        summary = json.loads((Path(run_dir) / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return summary if isinstance(summary, dict) else None


def run_pids(run_dir: Path, events: list | None = None) -> list[int]:
    """The launched process's pid and each session's child pid (from its run_started event)."""
    if events is None:
        events = read_events(run_dir).events
    pids = [read_pid(run_dir)] + [event.pid for event in events if isinstance(event, protocol.RunStarted)]
    return [pid for pid in dict.fromkeys(pids) if pid]


def is_alive(run_dir: Path, events: list | None = None) -> bool:
    """Whether something still runs for this run (its lock is held, or one of its pids lives)."""
    return bool(owner_alive(run_dir, run_pids(run_dir, events)))


def info_from_events(run_dir: Path, spec: dict, events: list, skipped_lines: int = 0) -> RunInfo:
    """The run's state from its events alone (no liveness check): a run without a final event is active."""
    model = spec.get("model", {}).get("name_or_path", "?") if isinstance(spec.get("model"), dict) else "?"
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
            summary_steps = as_number(event.summary.get("steps"))
            step = max(step, int(summary_steps or 0))
            summary_best = event.summary.get("best_metric")
            if isinstance(summary_best, dict) and as_number(summary_best.get("value")) is not None:
                best = (str(summary_best.get("name")), as_number(summary_best["value"]))
        elif isinstance(event, protocol.Failed):
            status, ended_at, last_final_time = event.status, event.time, event.time
            error = event.error
        elif isinstance(event, protocol.Evaluation):
            best = better_evaluation(best, event.metrics, spec)
    if status not in RUN_STATUSES:
        status = "failed"  # a final record with a status this version does not know
    launched = launched_at(run_dir)
    if status in FINAL_STATUSES and launched > last_final_time:
        status, ended_at = "starting", None  # resumed: the new child has not started its loop yet
    if started_at is None:
        started_at = launched or None
    return RunInfo(
        run_id=run_dir.name,
        path=run_dir,
        status=status,
        model=str(model),
        dataset=describe_data(spec),
        started_at=started_at,
        ended_at=ended_at,
        step=step,
        total_steps=total,
        best_metric=best,
        pid=child_pid or read_pid(run_dir),
        error=error,
        skipped_lines=skipped_lines,
    )


# A long run's events file takes about a second to parse per 100,000 steps, and the runs list is
# read again every few seconds: keep each folder's answer until one of its files changes.
_READ_CACHE: dict[Path, tuple[tuple, RunInfo, list[int]]] = {}
# SLURM_SCRIPT_FILE: written just after the folder is made; a prepared run's message names it.
_CACHE_KEY_FILES = (EVENTS_FILE, SPEC_FILE, LAUNCHED_FILE, PID_FILE, SLURM_SCRIPT_FILE)


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
    """The run's state from its files. Reads only: a dead child with no final event reads as crashed."""
    run_dir = Path(run_dir)
    key = _files_key(run_dir)  # taken before reading: a write meanwhile makes the next call read again
    cached = _READ_CACHE.get(run_dir)
    if cached is not None and cached[0] == key:
        _, info, pids = cached
        if not info.is_active or owner_alive(run_dir, pids):
            return info
    spec = load_spec_quietly(run_dir)
    read = read_events(run_dir)
    info = info_from_events(run_dir, spec, read.events, read.skipped_lines)
    if info.is_active and not is_alive(run_dir, read.events):
        # Read again: the child may have written its final event just before exiting.
        read = read_events(run_dir)
        info = info_from_events(run_dir, spec, read.events, read.skipped_lines)
        if info.is_active and never_launched(run_dir):
            info.status, info.error = PREPARED, prepared_message(run_dir)
        elif info.is_active:
            info.status, info.error = "crashed", crash_message(run_dir, read)
            info.ended_at = None
    if read.newer_lines and not info.error:
        info.error = f"{read.newer_lines} event(s) written by a newer workbench were skipped; upgrade workbench"
    _READ_CACHE[run_dir] = (key, info, run_pids(run_dir, read.events))
    return info


def crash_message(run_dir: Path, read: EventsRead) -> str:
    """Why a run without a final event reads as crashed: a corrupt events file is not a killed child."""
    try:
        has_bytes = (run_dir / EVENTS_FILE).stat().st_size > 0
    except OSError:
        has_bytes = False
    if not read.events and has_bytes:  # garbage lines, or one line cut short
        return (
            f"{EVENTS_FILE} is corrupt: it holds no readable run record, so how the run ended is unknown;"
            f" its log ({STDOUT_FILE}) tells more."
        )
    return CRASH_MESSAGE


def unreadable(folder: Path, error: Exception) -> RunInfo:
    return RunInfo(folder.name, folder, "failed", "?", "?", None, None, 0, None, None, None, f"unreadable: {error}")


def list_runs(runs_directory: Path | None = None) -> list[RunInfo]:
    """Every run folder, newest first. A folder that cannot be read is listed as failed, never raised."""
    infos = []
    for folder in run_folders(Path(runs_directory) if runs_directory is not None else runs_dir()):
        try:
            infos.append(read_run(folder))
        except Exception as error:  # noqa: BLE001  a corrupt folder must not hide the others
            infos.append(unreadable(folder, error))
    return infos
