"""Everything the monitor shows about one run, folded from its protocol events.

Pure Python (no textual): the follower thread builds a history from the events already in
the file, then the monitor feeds it new batches. Times shown are computed from event times,
never from the wall clock, so a replayed run looks the same every time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from workbench.core.runs.best import best_of
from workbench.core.runs.protocol import (
    Alert,
    CheckpointSaved,
    Evaluation,
    Event,
    Failed,
    Finished,
    GpuSample,
    LogLine,
    RunStarted,
    Step,
    SystemSample,
)
from workbench.core.runs.series import Series, SmoothedSeries

SYSTEM_HISTORY = 120  # samples kept for the sparklines
RATE_WINDOW = 50  # step events used for the step rate (ETA)


@dataclass
class GpuHistory:
    index: int
    name: str
    last: GpuSample
    node_rank: int = 0  # several machines: which node this GPU is on
    host: str = ""
    utilization: deque = field(default_factory=lambda: deque(maxlen=SYSTEM_HISTORY))
    memory: deque = field(default_factory=lambda: deque(maxlen=SYSTEM_HISTORY))  # fraction used


class RunHistory:
    def __init__(self, smoothing: float = 0.9) -> None:
        self.run_id: str = ""
        self.spec: dict = {}
        self.started: RunStarted | None = None
        self.first_time: float | None = None
        self.last_time: float | None = None
        self.loss = SmoothedSeries(smoothing)
        self.learning_rate = Series()
        self.grad_norm = Series()
        self.samples_per_s = Series()
        self.tokens_per_s = Series()
        self.last_step: Step | None = None
        self.evaluations: list[Evaluation] = []
        self.metrics: dict[str, Series] = {}
        self.gpus: dict[int | tuple[int, int], GpuHistory] = {}  # (node_rank, index) beyond node 0
        self.system: SystemSample | None = None
        self.cpu_percent: deque = deque(maxlen=SYSTEM_HISTORY)
        self.rss_mb: deque = deque(maxlen=SYSTEM_HISTORY)
        self.alerts: list[Alert] = []
        self.log_events: deque = deque(maxlen=500)
        self.checkpoints: list[CheckpointSaved] = []
        self.final: Finished | Failed | None = None
        self.events_seen = 0
        # Lines of events.jsonl that were skipped as invalid (set by whoever reads the file: RunFollower).
        self.skipped_lines = 0
        self.sessions = 0
        # Elapsed time over all sessions (a resumed run adds a session); the current one is open.
        self._closed_elapsed = 0.0
        self._session_start: float | None = None
        self._last_session_time = 0.0
        self._recent_steps: deque = deque(maxlen=RATE_WINDOW)  # (time, step)

    # -- ingest ---------------------------------------------------------------
    def ingest(self, events: Iterable[Event]) -> None:
        for event in events:
            self.events_seen += 1
            when = event.time
            if self.first_time is None:
                self.first_time = when
            if self.last_time is None or when > self.last_time:
                self.last_time = when
            handler = _HANDLERS.get(type(event))
            if handler is not None:
                handler(self, event)

    def _on_started(self, event: RunStarted) -> None:
        if self._session_start is not None and self.last_time is not None:
            self._closed_elapsed += max(0.0, self._last_session_time - self._session_start)
        self.sessions += 1
        self.started = event
        self.run_id = event.run_id or self.run_id
        self.spec = event.spec or self.spec
        self.final = None
        self._session_start = event.time
        self._last_session_time = event.time
        self._recent_steps.clear()
        if event.resumed_from_step is not None:
            self._truncate_after(event.resumed_from_step)

    def _truncate_after(self, step: int) -> None:
        self.loss.truncate_after(step)
        for series in (
            self.learning_rate,
            self.grad_norm,
            self.samples_per_s,
            self.tokens_per_s,
            *self.metrics.values(),
        ):
            series.truncate_after(step)
        self.evaluations = [e for e in self.evaluations if e.step <= step]

    def _on_step(self, event: Step) -> None:
        self._touch(event.time)
        self.last_step = event
        self.loss.append(event.step, event.loss)
        self.learning_rate.append(event.step, event.learning_rate)
        if event.grad_norm is not None:
            self.grad_norm.append(event.step, event.grad_norm)
        if event.samples_per_s is not None:
            self.samples_per_s.append(event.step, event.samples_per_s)
        if event.tokens_per_s is not None:
            self.tokens_per_s.append(event.step, event.tokens_per_s)
        self._recent_steps.append((event.time, event.step))

    def _on_evaluation(self, event: Evaluation) -> None:
        self._touch(event.time)
        self.evaluations.append(event)
        for name, value in event.metrics.items():
            if isinstance(value, (int, float)):
                self.metrics.setdefault(name, Series()).append(event.step, float(value))

    def _on_system(self, event: SystemSample) -> None:
        self._touch(event.time)
        self.system = event
        self.cpu_percent.append(event.cpu_percent)
        self.rss_mb.append(event.rss_mb)
        node = event.extra.get("node_rank")  # several machines: every node's GPU 0 is a GPU of its own
        node = node if isinstance(node, int) and node > 0 else 0
        host = str(event.extra.get("host") or "")
        for gpu in event.gpus:
            key = (node, gpu.index) if node else gpu.index
            history = self.gpus.get(key)
            if history is None:
                history = self.gpus[key] = GpuHistory(gpu.index, gpu.name, gpu, node_rank=node, host=host)
            history.last = gpu
            history.utilization.append(gpu.utilization or 0.0)
            if gpu.memory_used_mb is not None and gpu.memory_total_mb:
                history.memory.append(gpu.memory_used_mb / gpu.memory_total_mb)

    def _on_checkpoint(self, event: CheckpointSaved) -> None:
        self._touch(event.time)
        self.checkpoints.append(event)

    def _on_log(self, event: LogLine) -> None:
        self.log_events.append(event)

    def _on_alert(self, event: Alert) -> None:
        self.alerts.append(event)

    def _on_final(self, event: Finished | Failed) -> None:
        if event.status != "crashed":  # a crash record is written when noticed, not when the child died
            self._touch(event.time)
        self.final = event

    def _touch(self, when: float) -> None:
        if self._session_start is not None:
            self._last_session_time = max(self._last_session_time, when)

    # -- derived --------------------------------------------------------------
    @property
    def nodes(self) -> int:
        """How many machines' GPUs the samples came from."""
        return len({gpu.node_rank for gpu in self.gpus.values()})

    @property
    def status(self) -> str:
        """From the events alone; the monitor adds "crashed" when the child is gone without a final event."""
        if self.final is not None:
            return self.final.status
        return "running" if self.started is not None else "starting"

    @property
    def step(self) -> int:
        return self.last_step.step if self.last_step else (self.started.resumed_from_step or 0 if self.started else 0)

    @property
    def total_steps(self) -> int | None:
        return self.started.total_steps if self.started else None

    @property
    def epoch(self) -> float | None:
        return self.last_step.epoch if self.last_step else None

    @property
    def num_epochs(self) -> float | None:
        return self.started.num_epochs if self.started else None

    @property
    def fraction(self) -> float | None:
        total = self.total_steps
        if not total:
            return None
        return min(1.0, self.step / total)

    @property
    def elapsed(self) -> float:
        """Training time over all sessions, as of the last event (not the wall clock)."""
        if self._session_start is None:
            return 0.0
        return self._closed_elapsed + max(0.0, self._last_session_time - self._session_start)

    @property
    def steps_per_s(self) -> float | None:
        if len(self._recent_steps) < 2:
            return None
        (t0, s0), (t1, s1) = self._recent_steps[0], self._recent_steps[-1]
        if t1 <= t0 or s1 <= s0:
            return None
        return (s1 - s0) / (t1 - t0)

    @property
    def eta(self) -> float | None:
        if self.final is not None or not self.total_steps:
            return None
        rate = self.steps_per_s
        if not rate:
            return None
        return max(0.0, (self.total_steps - self.step) / rate)

    def metric_names(self) -> list[str]:
        return sorted(self.metrics)

    def best_metric(self, name: str) -> tuple[float, int] | None:
        """The best (value, step) of a metric, by the one rule of `best.py`."""
        series = self.metrics.get(name)
        if not series or not len(series):
            return None
        found = best_of(name, zip(series.xs, series.ys))
        return None if found is None else (found[0], int(found[1]))


_HANDLERS = {
    RunStarted: RunHistory._on_started,
    Step: RunHistory._on_step,
    Evaluation: RunHistory._on_evaluation,
    SystemSample: RunHistory._on_system,
    CheckpointSaved: RunHistory._on_checkpoint,
    LogLine: RunHistory._on_log,
    Alert: RunHistory._on_alert,
    Finished: RunHistory._on_final,
    Failed: RunHistory._on_final,
}
