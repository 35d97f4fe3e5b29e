"""Mirror a run's events to the trackers people already use: TensorBoard, trackio, Weights & Biases.

The run folder stays the source of truth; a tracker is a copy. `training.report_to` (TrainingArguments'
name and values) picks them: a list of "tensorboard", "trackio", "wandb" (or "all" / "none"), default [].

    mirror = TrackerMirror.from_spec(spec, run_dir)   # never raises, imports nothing yet
    for alert in mirror.emit(event): sink.write(alert) # after each event is written to events.jsonl
    for alert in mirror.close(): sink.write(alert)     # before the run's final event

Step events become `train/*` scalars at their step, evaluations `eval/*` (another split: `<split>/*`),
system samples `system/*` at the latest step: the names the Trainer's own callbacks use.
Each library is optional (the `trackers` extra). One that is missing, or that fails, is dropped with an
`Alert` (kind "tracker") that the sink writes to events.jsonl: a tracker never stops the run.

By default the writing happens on one background thread, so a slow tracker costs the training loop
only a queue put; `threaded=False` writes in the caller's thread (the `workbench export` command).
Where they write: TensorBoard in RUN/tensorboard (or `directory`); trackio in its own store
(TRACKIO_DIR, default ~/.cache/huggingface/trackio), project TRACKIO_PROJECT or "workbench"; wandb
offline (WANDB_MODE, default "offline") in RUN/wandb, project WANDB_PROJECT or "workbench".
Imports no textual; torch and the trackers only when a tracker starts.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Iterable
from pathlib import Path

from workbench.core.runs.protocol import Alert, Evaluation, Event, RunStarted, Step, SystemSample

TRACKERS = ("tensorboard", "trackio", "wandb")
INSTALL_HINT = 'pip install -e ".[trackers]"'
TENSORBOARD_DIR = "tensorboard"  # inside the run folder
WANDB_DIR = "wandb"
DEFAULT_PROJECT = "workbench"
STEP_FIELDS = ("loss", "learning_rate", "grad_norm", "samples_per_s", "tokens_per_s", "step_time_s", "epoch")
_STOP = object()


def parse_report_to(value) -> list[str]:
    """The trackers a `report_to` value names, in TRACKERS order; ValueError naming a bad one.

    Accepts what TrainingArguments does: a list, one name, "all", "none" (or an empty value)."""
    if value is None or value == "" or value == []:
        return []
    names = [value] if isinstance(value, str) else list(value)
    chosen: set[str] = set()
    for name in names:
        name = str(name).strip().lower()
        if name == "none":
            continue
        if name == "all":
            chosen.update(TRACKERS)
        elif name in TRACKERS:
            chosen.add(name)
        else:
            raise ValueError(f"unknown tracker {name!r}; choose from {', '.join(TRACKERS)} (or 'all', 'none')")
    return [name for name in TRACKERS if name in chosen]


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def scalars(event: Event, last_step: int) -> tuple[dict[str, float], int] | None:
    """(tag -> value, step) for an event the trackers show, or None."""
    values: dict[str, float] = {}
    if isinstance(event, Step):
        for name in STEP_FIELDS:
            number = _number(getattr(event, name, None))
            if number is not None:
                values[f"train/{name}"] = number
        return values, event.step
    if isinstance(event, Evaluation):
        prefix = "eval" if event.split in ("validation", "eval", "") else event.split
        for name, value in event.metrics.items():
            number = _number(value)
            if number is not None:
                values[f"{prefix}/{name}"] = number
        return (values, event.step) if values else None
    if isinstance(event, SystemSample):
        for name in ("cpu_percent", "rss_mb", "ram_used_mb"):
            number = _number(getattr(event, name))
            if number is not None:
                values[f"system/{name}"] = number
        for gpu in event.gpus:
            for name in ("utilization", "memory_used_mb", "power_w", "temperature_c", "process_memory_mb"):
                number = _number(getattr(gpu, name))
                if number is not None:
                    values[f"system/gpu{gpu.index}/{name}"] = number
        return (values, last_step) if values else None
    return None


def _flat(spec: dict, prefix: str = "") -> dict:
    """{"training.learning_rate": 5e-05, ...}: a config every tracker can show."""
    flat = {}
    for key, value in (spec or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def trackio_project(project: str | None = None) -> str:
    return project or os.environ.get("TRACKIO_PROJECT") or DEFAULT_PROJECT


class TrackerMissing(Exception):
    """The tracker's library is not installed."""


class TensorBoardTracker:
    """torch's SummaryWriter; one event record per workbench event (all its scalars in one Summary), which
    costs a seventh of one add_scalar per value: the record writer's checksums are pure Python."""

    name = "tensorboard"

    def __init__(self, directory: Path, run_id: str, spec: dict) -> None:
        try:
            from tensorboard.compat.proto.summary_pb2 import Summary
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise TrackerMissing("tensorboard") from None
        self.summary = Summary
        self.writer = SummaryWriter(log_dir=str(directory))
        text = "\n".join(f"    {key} = {value!r}" for key, value in sorted(_flat(spec).items()))
        if text:
            self.writer.add_text("spec", f"run {run_id}\n\n{text}", global_step=0)

    def log(self, values: dict[str, float], step: int, walltime: float | None) -> None:
        Summary = self.summary
        summary = Summary(value=[Summary.Value(tag=tag, simple_value=value) for tag, value in values.items()])
        self.writer.file_writer.add_summary(summary, step, walltime)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()


class TrackioTracker:
    name = "trackio"

    def __init__(self, run_id: str, spec: dict, project: str | None = None) -> None:
        try:
            import trackio
        except ImportError:
            raise TrackerMissing("trackio") from None
        self.run = trackio.init(
            project=trackio_project(project),
            name=run_id,
            config=_flat(spec),
            resume="allow",
            auto_log_gpu=False,  # the run's own system samples are mirrored instead
            auto_log_cpu=False,
        )

    def log(self, values: dict[str, float], step: int, walltime: float | None) -> None:
        self.run.log({key: value for key, value in values.items() if math.isfinite(value)}, step=step)

    def close(self) -> None:
        self.run.finish()


class WandbTracker:
    name = "wandb"

    def __init__(self, directory: Path, run_id: str, spec: dict) -> None:
        try:
            import wandb
        except ImportError:
            raise TrackerMissing("wandb") from None
        directory.mkdir(parents=True, exist_ok=True)
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT") or DEFAULT_PROJECT,
            name=run_id,
            id=run_id,  # a resumed run continues the same wandb run (online; offline logs a new one)
            resume="allow",
            dir=str(directory),
            mode=os.environ.get("WANDB_MODE") or "offline",
            config=_flat(spec),
            reinit="create_new",
        )

    def log(self, values: dict[str, float], step: int, walltime: float | None) -> None:
        self.run.log(values, step=step)

    def close(self) -> None:
        self.run.finish()


class TrackerMirror:
    """Copies step, evaluation and system events to the chosen trackers; never raises."""

    def __init__(
        self,
        names: Iterable[str],
        run_dir: Path,
        *,
        threaded: bool = True,
        tensorboard_dir: Path | None = None,
        trackio_project: str | None = None,
    ) -> None:
        self.names = list(names)
        self.run_dir = Path(run_dir)
        self.tensorboard_dir = Path(tensorboard_dir) if tensorboard_dir else self.run_dir / TENSORBOARD_DIR
        self.trackio_project = trackio_project
        self.trackers: list = []
        self.started = False
        self.last_step = 0
        self._alerts: list[Alert] = []
        self._alerts_lock = threading.Lock()
        self._queue: queue.Queue | None = queue.Queue() if (threaded and self.names) else None
        self._thread: threading.Thread | None = None
        self.closed = False

    @classmethod
    def from_spec(cls, spec: dict, run_dir: Path, **options) -> TrackerMirror:
        """The mirror `training.report_to` asks for; a bad value becomes an alert, not an exception."""
        mirror = cls([], run_dir, **options)
        try:
            mirror.names = parse_report_to((spec or {}).get("training", {}).get("report_to"))
        except ValueError as error:
            mirror._alert(f"training.report_to: {error}; no tracker mirrors this run")
        if mirror.names and options.get("threaded", True):
            mirror._queue = queue.Queue()
        return mirror

    @property
    def active(self) -> bool:
        return bool(self.names) and not self.closed

    # The sink's side ---------------------------------------------------------------------------

    def emit(self, event: Event) -> list[Alert]:
        """Mirror one event; returns the alerts raised since the last call (usually none)."""
        if self.active and not isinstance(event, Alert):
            if self._queue is None:
                self._handle(event)
            else:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._drain, name="tracker-mirror", daemon=True)
                    self._thread.start()
                self._queue.put(event)
        return self.take_alerts()

    def close(self, timeout: float = 30.0) -> list[Alert]:
        """Flush and close every tracker (waits up to `timeout` for the background thread)."""
        if not self.closed:
            self.closed = True
            if self._thread is not None:
                self._queue.put(_STOP)
                self._thread.join(timeout)
                if self._thread.is_alive():
                    self._alert(
                        f"the trackers did not finish writing within {timeout:.0f} s; their copy may lack the end"
                    )
            else:
                self._close_trackers()
        return self.take_alerts()

    def take_alerts(self) -> list[Alert]:
        with self._alerts_lock:
            alerts, self._alerts = self._alerts, []
        return alerts

    # The writer's side -------------------------------------------------------------------------

    def _alert(self, message: str) -> None:
        with self._alerts_lock:
            self._alerts.append(Alert(kind="tracker", message=message, step=self.last_step or None))

    def _drain(self) -> None:
        while True:
            event = self._queue.get()
            if event is _STOP:
                self._close_trackers()
                return
            self._handle(event)

    def _start(self, run_id: str, spec: dict) -> None:
        self.started = True
        for name in self.names:
            try:
                if name == "tensorboard":
                    tracker = TensorBoardTracker(self.tensorboard_dir, run_id, spec)
                elif name == "trackio":
                    tracker = TrackioTracker(run_id, spec, self.trackio_project)
                else:
                    tracker = WandbTracker(self.run_dir / WANDB_DIR, run_id, spec)
            except TrackerMissing:
                self._alert(f"{name} is not installed ({INSTALL_HINT}); the run goes on without it")
                continue
            except Exception as error:  # noqa: BLE001 - any tracker failure becomes an alert, never a stop
                self._alert(f"{name} could not start: {_one_line(error)}; the run goes on without it")
                continue
            self.trackers.append(tracker)

    def _handle(self, event: Event) -> None:
        if not self.started:
            if isinstance(event, RunStarted):
                self._start(event.run_id, event.spec)
            else:
                self._start(self.run_dir.name, {})
        found = scalars(event, self.last_step)
        if isinstance(event, Step):
            self.last_step = event.step
        if not found:
            return
        values, step = found
        for tracker in list(self.trackers):
            try:
                tracker.log(values, step, event.time)
            except Exception as error:  # noqa: BLE001 - a failing tracker is dropped, the run goes on
                self.trackers.remove(tracker)
                self._alert(f"{tracker.name} failed: {_one_line(error)}; mirroring to it stopped, the run goes on")

    def _close_trackers(self) -> None:
        while self.trackers:
            tracker = self.trackers.pop(0)
            try:
                tracker.close()
            except Exception as error:  # noqa: BLE001
                self._alert(f"{tracker.name} failed while closing: {_one_line(error)}")


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
