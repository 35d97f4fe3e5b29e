"""The run event protocol: versioned JSON-lines records shared by the training child and readers.

One record a line in `events.jsonl`, append-only. Every record has `v` (protocol version),
`type` and `time` (Unix seconds). The child writes with `EventWriter`; the TUI and the CLI
read with `read_events` / `EventReader` (incremental, tolerant of a truncated last line).
Neither side imports the other; this module is their only shared vocabulary.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

PROTOCOL_VERSION = 1
PID_FILE = "pid"  # in the run folder: the launched process (`accelerate launch`), written by the launcher


def read_pid(run_dir: Path) -> int | None:
    """The launched process's pid from the run folder; None while it is not written (or unreadable)."""
    try:
        return int((Path(run_dir) / PID_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


class ProtocolError(ValueError):
    """A line that is not a valid event record."""


@dataclass
class Event:
    type: ClassVar[str] = "event"
    time: float = field(default_factory=time.time, kw_only=True)


@dataclass
class RunStarted(Event):
    type: ClassVar[str] = "run_started"
    run_id: str
    spec: dict[str, Any]
    versions: dict[str, str] = field(default_factory=dict)
    devices: list[dict[str, Any]] = field(default_factory=list)
    num_processes: int = 1
    total_steps: int | None = None
    num_epochs: float | None = None
    steps_per_epoch: int | None = None
    pid: int | None = None
    resumed_from_step: int | None = None


@dataclass
class Step(Event):
    type: ClassVar[str] = "step"
    step: int
    epoch: float
    loss: float
    learning_rate: float
    grad_norm: float | None = None
    samples_per_s: float | None = None
    tokens_per_s: float | None = None  # non-padding tokens
    step_time_s: float | None = None


@dataclass
class Evaluation(Event):
    type: ClassVar[str] = "evaluation"
    step: int
    epoch: float
    metrics: dict[str, float]
    split: str = "validation"


@dataclass
class GpuSample:
    index: int
    name: str
    utilization: float | None = None  # percent
    memory_used_mb: float | None = None
    memory_total_mb: float | None = None
    power_w: float | None = None
    temperature_c: float | None = None
    process_memory_mb: float | None = None  # this run's processes on this GPU


@dataclass
class SystemSample(Event):
    type: ClassVar[str] = "system"
    cpu_percent: float
    rss_mb: float  # the run's processes
    ram_used_mb: float | None = None
    ram_total_mb: float | None = None
    gpus: list[GpuSample] = field(default_factory=list)
    gpu_error: str | None = None  # e.g. "NVML not available: no NVIDIA driver"


@dataclass
class CheckpointSaved(Event):
    type: ClassVar[str] = "checkpoint"
    step: int
    path: str


@dataclass
class LogLine(Event):
    type: ClassVar[str] = "log"
    message: str
    level: str = "info"


@dataclass
class Alert(Event):
    type: ClassVar[str] = "alert"
    kind: str  # "nan_loss", "inf_loss", "loss_spike", "throughput_drop", "gpu_memory", ...
    message: str
    step: int | None = None


@dataclass
class Finished(Event):
    type: ClassVar[str] = "finished"
    status: str  # "finished" or "stopped"
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class Failed(Event):
    type: ClassVar[str] = "failed"
    error: str
    traceback: str = ""
    suggestion: str | None = None
    status: str = "failed"  # "failed", or "crashed" when written by a watcher for a dead child


@dataclass
class UnknownEvent(Event):
    """A record of a type this reader does not know (written by a newer version)."""

    type: ClassVar[str] = "unknown"
    raw: dict[str, Any] = field(default_factory=dict)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (RunStarted, Step, Evaluation, SystemSample, CheckpointSaved, LogLine, Alert, Finished, Failed)
}


def encode(event: Event) -> str:
    """One JSON line (no trailing newline). Non-finite floats are written as null-safe strings."""
    record = {"v": PROTOCOL_VERSION, "type": event.type, **asdict(event)}
    return json.dumps(record, separators=(",", ":"), default=str, allow_nan=True)


def decode(line: str) -> Event:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ProtocolError(f"not JSON: {error}") from None
    if not isinstance(record, dict) or "type" not in record:
        raise ProtocolError("not an event record (no 'type')")
    version = record.pop("v", None)
    if not isinstance(version, int) or version > PROTOCOL_VERSION:
        raise ProtocolError(f"unsupported protocol version {version!r} (this reader knows {PROTOCOL_VERSION})")
    event_type = record.pop("type")
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        return UnknownEvent(raw={"type": event_type, **record}, time=record.get("time", 0.0))
    known = {f.name for f in fields(cls)}
    values = {key: value for key, value in record.items() if key in known}
    if cls is SystemSample:
        values["gpus"] = [GpuSample(**gpu) for gpu in values.get("gpus", [])]
    try:
        return cls(**values)
    except TypeError as error:
        raise ProtocolError(f"bad {event_type} record: {error}") from None


class EventWriter:
    """Appends records to events.jsonl, one write and flush per record (so readers see whole lines)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")

    def emit(self, event: Event) -> None:
        self._file.write(encode(event) + "\n")
        self._file.flush()

    def sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class EventReader:
    """Incremental reader: each `poll()` returns the events of the complete lines added since the last.

    A last line without its newline (the writer is mid-write, or died mid-write) is left for the
    next poll; lines that do not decode are counted in `bad_lines`, not raised.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self.bad_lines = 0

    def poll(self) -> list[Event]:
        try:
            with open(self.path, "rb") as file:
                file.seek(self.offset)
                chunk = file.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        events = []
        for raw_line in chunk[: end + 1].splitlines():
            if not raw_line.strip():
                continue
            try:
                events.append(decode(raw_line.decode("utf-8")))
            except (ProtocolError, UnicodeDecodeError):
                self.bad_lines += 1
        return events

    def follow(self, interval: float = 0.2, stop=None) -> Iterator[Event]:
        """Yield events as they are appended until `stop()` is true or a final event arrives."""
        while True:
            for event in self.poll():
                yield event
                if isinstance(event, (Finished, Failed)):
                    return
            if stop is not None and stop():
                return
            time.sleep(interval)


def read_events(path: Path) -> list[Event]:
    """All complete, valid events in the file (a truncated last line is ignored)."""
    return EventReader(path).poll()


def is_final(event: Event) -> bool:
    return isinstance(event, (Finished, Failed))
