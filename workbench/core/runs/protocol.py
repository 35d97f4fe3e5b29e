"""The run event protocol: versioned JSON-lines records shared by the training child and readers.

One record a line in `events.jsonl`, append-only. Every record has `v` (protocol version),
`type` and `time` (Unix seconds). Lines are strict JSON (protocol v2): a non-finite float is written as
the string "NaN", "Infinity" or "-Infinity" (v1 wrote bare NaN tokens; nothing else changed). Readers
accept v1 and v2, skip (and count) records that are not valid, keep keys they do not know in `extra`, and
refuse versions newer than PROTOCOL_VERSION. The child writes with
`EventWriter`; the TUI and the CLI read with `read_events` / `EventReader` (incremental, tolerant of a
truncated last line). Neither side imports the other; this module is their only shared vocabulary.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, ClassVar

from workbench.core.runs.folder import PID_FILE, read_pid  # noqa: F401  (their home is folder.py)

# v2 (strict JSON) differs from v1 only in non-finite floats: v1 wrote bare NaN/Infinity tokens, v2 writes
# the strings "NaN", "Infinity", "-Infinity". Readers accept both; newer versions are refused.
PROTOCOL_VERSION = 2


class ProtocolError(ValueError):
    """A line that is not a valid event record."""


class NewerProtocolError(ProtocolError):
    """A record written by a newer workbench (a protocol version this reader does not know)."""

    def __init__(self, version: int) -> None:
        super().__init__(
            f"protocol version {version} is newer than this workbench reads ({PROTOCOL_VERSION}); upgrade workbench"
        )
        self.version = version


@dataclass
class Event:
    type: ClassVar[str] = "event"
    time: float = field(default_factory=time.time, kw_only=True)
    # Keys this version does not know (a newer writer's), kept so that nothing read is lost.
    extra: dict[str, Any] = field(default_factory=dict, kw_only=True, repr=False, compare=False)


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
    # The per-example predictions of this evaluation, relative to the run folder ("" = not kept).
    predictions: str = ""
    # A few predictions next to their references (generation tasks), shown by the monitor.
    samples: list[dict[str, Any]] = field(default_factory=list)


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
    extra: dict[str, Any] = field(default_factory=dict, kw_only=True, repr=False, compare=False)


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


_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _finite_safe(value: Any) -> Any:
    """`value` with every non-finite float replaced by its string ("NaN", "Infinity", "-Infinity")."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_safe(item) for item in value]
    return value


def _record(obj: Any) -> dict[str, Any]:
    """A dataclass as a JSON object; its `extra` keys (unknown to this version) are written back as they came."""
    record: dict[str, Any] = {}
    for item in fields(obj):
        if item.name == "extra":
            continue
        value = getattr(obj, item.name)
        if isinstance(value, list):
            value = [_record(entry) if is_dataclass(entry) else entry for entry in value]
        record[item.name] = value
    for key, value in getattr(obj, "extra", {}).items():
        record.setdefault(key, value)
    return record


def encode(event: Event) -> str:
    """One strict-JSON line (no trailing newline): a non-finite float is written as a string."""
    record = {"v": PROTOCOL_VERSION, "type": event.type, **_record(event)}
    try:
        return json.dumps(record, separators=(",", ":"), default=str, allow_nan=False)
    except ValueError:  # a non-finite float somewhere (a NaN loss): the slower, string-safe walk
        return json.dumps(_finite_safe(record), separators=(",", ":"), default=str, allow_nan=False)


def _check_float(value: Any) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    raise TypeError(f"expected a number, got {value!r}")


def _check_int(value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    raise TypeError(f"expected a whole number, got {value!r}")


def _checker_of(kind: type) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, kind):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return check


def _check_metrics(value: Any) -> dict:
    if not isinstance(value, dict):
        raise TypeError(f"expected dict, got {type(value).__name__}")
    return {key: _NON_FINITE.get(item, item) if isinstance(item, str) else item for key, item in value.items()}


def _check_objects(value: Any) -> list:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TypeError("expected a list of objects")
    return value


def _check_gpus(value: Any) -> list:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return [_build(GpuSample, item) for item in value]


def _checker(annotation: str) -> tuple[bool, Callable[[Any], Any]]:
    """(accepts None, a function that checks a value and converts it where that loses nothing) for a field's
    annotation (a string: this module uses postponed annotations)."""
    kinds = [part.strip() for part in annotation.split("|")]
    first = kinds[0]
    if first == "int":
        check = _check_int
    elif first == "float":
        check = _check_float
    elif first == "dict[str, float]":
        check = _check_metrics
    elif first.startswith("list[GpuSample"):
        check = _check_gpus
    elif first.startswith("list[dict"):
        check = _check_objects
    else:
        check = _checker_of({"dict": dict, "list": list, "str": str}[first.split("[", 1)[0]])
    return "None" in kinds, check


_FIELD_CHECKS: dict[type, tuple[tuple[str, bool, Callable[[Any], Any]], ...]] = {}


def _field_checks(cls: type) -> tuple[tuple[str, bool, Callable[[Any], Any]], ...]:
    checks = _FIELD_CHECKS.get(cls)
    if checks is None:
        checks = _FIELD_CHECKS[cls] = tuple(
            (item.name, *_checker(item.type)) for item in fields(cls) if item.name != "extra"
        )
    return checks


def _build(cls: type, record: Any) -> Any:
    """A record dataclass from a JSON object: every known field type-checked, unknown keys kept in `extra`."""
    if not isinstance(record, dict):
        raise TypeError(f"expected an object, got {type(record).__name__}")
    values: dict[str, Any] = {}
    checks = _field_checks(cls)
    for name, nullable, check in checks:
        if name not in record:
            continue
        value = record[name]
        if value is None:
            if not nullable:
                raise TypeError(f"{name}: missing value")
            values[name] = None
            continue
        try:
            values[name] = check(value)
        except TypeError as error:
            raise TypeError(f"{name}: {error}") from None
    if len(values) < len(record):
        known = {name for name, _, _ in checks}
        extra = {key: value for key, value in record.items() if key not in known}
        if extra:
            values["extra"] = extra
    return cls(**values)


def decode(line: str) -> Event:
    """One event from a line; raises ProtocolError for a line that is not a record this reader can use.

    Accepts the bare `NaN`/`Infinity` tokens of files written before strict JSON and the string
    encoding of `"v":2` records; refuses versions newer than PROTOCOL_VERSION."""
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ProtocolError(f"not JSON: {error}") from None
    if not isinstance(record, dict) or not isinstance(record.get("type"), str):
        raise ProtocolError("not an event record (no 'type')")
    version = record.pop("v", None)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ProtocolError(f"not an event record (protocol version {version!r})")
    if version > PROTOCOL_VERSION:
        raise NewerProtocolError(version)
    event_type = record.pop("type")
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        when = record.get("time", 0.0)
        when = when if isinstance(when, (int, float)) and not isinstance(when, bool) else 0.0
        return UnknownEvent(raw={"type": event_type, **record}, time=float(when))
    try:
        return _build(cls, record)
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
    next poll; lines that do not decode are skipped one by one and counted in `bad_lines` (those
    written by a newer workbench also in `newer_lines`), never raised.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self.bad_lines = 0
        self.newer_lines = 0

    def decode_line(self, raw_line: bytes) -> Event | None:
        """One line's event, or None (counted) when it is not one this reader can use."""
        try:
            return decode(raw_line.decode("utf-8"))
        except NewerProtocolError:
            self.newer_lines += 1
        except (ProtocolError, UnicodeDecodeError):
            pass
        self.bad_lines += 1
        return None

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
            event = self.decode_line(raw_line)
            if event is not None:
                events.append(event)
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
