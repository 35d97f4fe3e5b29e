"""The monitor of one run: progress, loss/lr/grad-norm/throughput charts, evaluations, system, alerts, output.

A thread worker follows the run folder (`follow.RunFollower`): it folds the history already on disk
into a `RunHistory` off the UI thread, hands it over once, then queues each new batch of events and
posts one coalescing `EventsArrived`; the handler drains the queue and redraws. Each batch paints
once and never re-lays out the screen: every box has a fixed size (see `eval_table`, `output_tail`),
and the charts take turns. benchmarks/monitor_ingest.py measures it.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.reactive import reactive
from textual.worker import get_current_worker

from workbench.core.formatting import number
from workbench.core.runs.folder import never_launched
from workbench.core.runs.follow import RunFollower
from workbench.core.runs.history import RunHistory
from workbench.core.runs.listing import prepared_message
from workbench.ui.shell.gc_pauses import automatic_gc_paused, freeze_long_lived_objects
from workbench.ui.training.chart import LineChart, Trace
from workbench.ui.training.eval_table import EvalTable
from workbench.ui.training.output_tail import OutputTail
from workbench.ui.training.panels import AlertBar, ProgressLine, SystemPanel
from workbench.ui.training.samples_view import SamplesView

ZOOMS = (0, 100, 1_000, 10_000)  # "last N steps"; 0 is everything
SMOOTHING_STEPS = (0.0, 0.6, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)
POLL_RUNNING_S = 0.25
POLL_IDLE_S = 1.0
INGEST_BUDGET = 20_000  # events folded per handler call; the rest wait for the next one
CHART_INTERVAL_S = 0.4  # a live chart redraws at most this often (the numbers update on every batch)
COLLECT_EVERY_S = 1.0  # while following a live run, a full garbage collection between frames at most this often


class RunMonitor(Vertical, can_focus=True):
    DEFAULT_CSS = """
    RunMonitor { height: 1fr; }
    RunMonitor #monitor-charts { height: 3fr; min-height: 12; }
    RunMonitor #loss-chart { width: 3fr; border: round $panel-lighten-2; }
    RunMonitor #side-charts { width: 2fr; }
    RunMonitor #side-charts > LineChart { height: 1fr; min-height: 4; }
    RunMonitor #monitor-lower { height: 2fr; min-height: 8; }
    RunMonitor #eval-table { width: 1fr; height: 1fr; border: round $panel-lighten-2; }
    RunMonitor #metric-chart { width: 1fr; border: round $panel-lighten-2; }
    RunMonitor SystemPanel { width: 1fr; min-width: 38; }
    RunMonitor #log-tail { height: 8; border: round $panel-lighten-2; }
    """

    BINDINGS = [
        Binding("l", "toggle_log", "Log scale", id="monitor.log_scale", tooltip="Loss chart: linear or log scale"),
        Binding("z", "zoom", "Zoom", id="monitor.zoom", tooltip="Charts: all steps or the last 100/1,000/10,000"),
        Binding(
            "right_square_bracket",
            "smoothing(1)",
            "Smooth+",
            id="monitor.smooth_more",
            tooltip="More EMA smoothing of the loss",
        ),
        Binding(
            "left_square_bracket",
            "smoothing(-1)",
            "Smooth-",
            id="monitor.smooth_less",
            tooltip="Less EMA smoothing of the loss",
        ),
        Binding("m", "next_metric", "Metric", id="monitor.metric", tooltip="Chart the next evaluation metric"),
    ]

    status: reactive[str] = reactive("starting")

    @dataclass
    class HistoryLoaded(Message):
        run_dir: Path
        history: RunHistory
        log_lines: list[str]
        prepared: str = ""  # a folder `--print-launch` or `workbench slurm` made, not started yet: how to start it

    class EventsArrived(Message):
        """New events are queued; one waiting message is enough (the handler drains the queue)."""

        bubble = False

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RunMonitor.EventsArrived)

    class ChildGone(Message):
        bubble = False

    @dataclass
    class StatusChanged(Message):
        """The run's status changed (the Training pane refreshes its list)."""

        run_dir: Path
        status: str

    def __init__(self, run_dir: Path | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.run_dir = Path(run_dir) if run_dir else None
        self.history = RunHistory(smoothing=0.9)
        self._inbox: deque = deque()
        self._wake = threading.Event()
        self._crashed = False
        self._prepared = ""
        self._evaluations_shown = 0
        self._metric_columns: list[str] = []
        self.metric_name = ""
        self.zoom = 0
        self._chart_turn = 0
        self._chart_drawn_at = [0.0, 0.0]
        self._charts_stale = [False, False]
        self._charts_pending = False
        self._last_batch_at = 0.0
        self._collected_at = 0.0

    def compose(self) -> ComposeResult:
        yield ProgressLine(id="monitor-progress")
        yield AlertBar(id="monitor-alerts")
        with Horizontal(id="monitor-charts"):
            yield LineChart("waiting for the first training step…", id="loss-chart")
            with Vertical(id="side-charts"):
                yield LineChart("no learning rate yet", id="lr-chart")
                yield LineChart("no gradient norms logged", id="grad-chart")
                yield LineChart("no throughput yet", id="throughput-chart")
        with Horizontal(id="monitor-lower"):
            yield EvalTable(id="eval-table")
            yield LineChart("no evaluation yet", id="metric-chart")
            yield SystemPanel(id="system-panel")
        yield SamplesView(id="samples-view")  # seq2seq runs: the latest evaluation's samples
        yield OutputTail(id="log-tail")

    def on_mount(self) -> None:
        self.query_one("#loss-chart").border_title = "loss"
        self.query_one("#loss-chart").border_subtitle = "l log · z zoom · [ ] smoothing"
        self.query_one("#eval-table").border_title = "evaluations"
        self.query_one("#metric-chart").border_title = "metric"
        self.query_one("#log-tail").border_title = "output (stdout.log)"
        if self.run_dir is not None:
            self.show_run(self.run_dir)

    def on_unmount(self) -> None:
        self._wake.set()

    # -- following --------------------------------------------------------------
    def show_run(self, run_dir: Path) -> None:
        """Show a run's whole history, then follow it live."""
        self.run_dir = Path(run_dir)
        self.set_reactive(RunMonitor.status, "starting")  # a new run: no "ended" toast for the previous one
        self.history = RunHistory(smoothing=self.history.loss.weight)
        self._inbox.clear()
        self._crashed = False
        self._prepared = ""
        self._evaluations_shown = 0
        self._metric_columns = []
        self.query_one("#eval-table", EvalTable).clear()
        self.query_one("#log-tail", OutputTail).clear()
        self._wake.set()  # let a previous follower see its cancellation at once
        self._wake = threading.Event()
        self.follow(self.run_dir, self._wake)
        self.redraw()

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-follow", name="run follower")
    def follow(self, run_dir: Path, wake: threading.Event) -> None:
        worker = get_current_worker()
        follower = RunFollower(run_dir)
        with automatic_gc_paused():
            history, lines = follower.load(self.history.loss.weight)
        prepared = prepared_message(run_dir) if never_launched(run_dir) else ""
        self.post_message(self.HistoryLoaded(run_dir, history, lines, prepared))
        if follower.child_gone():  # attached to a run that died while nobody watched
            self.post_message(self.ChildGone())
        idle_checks = 0
        skipped = history.skipped_lines  # invalid lines of events.jsonl, each skipped alone
        while not worker.is_cancelled:
            wake.wait(POLL_IDLE_S if follower.final_seen else POLL_RUNNING_S)
            if worker.is_cancelled or wake.is_set():
                return
            events, lines = follower.poll()
            if events or lines or follower.skipped_lines != skipped:
                skipped = follower.skipped_lines
                self._inbox.append((run_dir, events, lines, skipped))
                self.post_message(self.EventsArrived())
            idle_checks += 1
            if idle_checks % 8 == 0 and follower.child_gone():
                events, lines = follower.poll()  # a final event written just before exit
                if events or lines:
                    self._inbox.append((run_dir, events, lines, follower.skipped_lines))
                    self.post_message(self.EventsArrived())
                if not follower.final_seen:
                    self.post_message(self.ChildGone())

    @on(HistoryLoaded)
    def _history_loaded(self, message: HistoryLoaded) -> None:
        if message.run_dir != self.run_dir:
            return
        message.stop()
        self.history = message.history
        self._prepared = message.prepared
        self.query_one("#log-tail", OutputTail).write_lines(message.log_lines)
        self.redraw(charts_now=True)
        self.call_after_refresh(freeze_long_lived_objects)

    @on(EventsArrived)
    def _events_arrived(self, message: EventsArrived) -> None:
        self.drain()

    def drain(self) -> int:
        """Fold queued events into the history (up to a budget) and redraw; returns how many."""
        budget = INGEST_BUDGET
        log_lines: list[str] = []
        folded = 0
        alerts_before = len(self.history.alerts)
        while self._inbox and budget > 0:
            run_dir, events, lines, skipped = self._inbox[0]
            if run_dir != self.run_dir:
                self._inbox.popleft()
                continue
            if len(events) > budget:
                self._inbox[0] = (run_dir, events[budget:], lines, skipped)
                events, lines = events[:budget], []
            else:
                self._inbox.popleft()
            self.history.ingest(events)
            self.history.skipped_lines = skipped
            if events:
                self._prepared = ""  # one of its machines started it
            if any(type(event).__name__ == "RunStarted" for event in events):
                self._crashed = False
            folded += len(events)
            budget -= len(events)
            log_lines.extend(lines)
        if log_lines:
            self.query_one("#log-tail", OutputTail).write_lines(log_lines)
        for alert in self.history.alerts[alerts_before:][-3:]:  # live alerts also pop up, wherever the user is
            self.app.notify(alert.message, title=f"⚠ {alert.kind.replace('_', ' ')}", severity="warning", timeout=8)
        if self._inbox:
            self.call_later(self.drain)
        self.redraw(charts_now=False)
        self.call_after_refresh(self._collect_between_frames)
        return folded

    def _collect_between_frames(self) -> None:
        """Run the full garbage collection now, just after a frame, rather than let it land inside one.

        Textual's rendered lines live a frame or two in caches, then die in reference cycles: several
        thousand objects a second while a run streams. Left to the default schedule they pile up for
        a full collection every ten seconds or so, a 40-60 ms pause in the middle of a frame; collected
        each second (with the app frozen, see `freeze_long_lived_objects`) the pause is a few ms.
        """
        now = time.monotonic()
        promoted = (
            gc.get_count()[2] > 0
        )  # a middle collection moved objects to the old generation since the last full one
        if promoted and now - self._collected_at >= COLLECT_EVERY_S:
            self._collected_at = now
            gc.collect()

    @on(ChildGone)
    def _child_gone(self, message: ChildGone) -> None:
        if self.history.final is None:
            self._crashed = True
            self.redraw()

    # -- drawing ----------------------------------------------------------------
    def current_status(self) -> str:
        if self.history.final is None and self._crashed:
            return "crashed"
        if self._prepared:
            return "prepared"
        return self.history.status

    def redraw(self, charts_now: bool = True) -> None:
        history = self.history
        status = self.current_status()
        self.status = status
        run_id = history.run_id or (self.run_dir.name if self.run_dir else "")
        try:
            self.query_one(ProgressLine).show(history, status, run_id, note=self._prepared)
            self.query_one(AlertBar).show(history, status)
            self._draw_evaluations()
            self.query_one(SamplesView).show(next((e for e in reversed(history.evaluations) if e.samples), None))
            self.query_one(SystemPanel).show(history)
        except (TypeError, ValueError, AttributeError, OverflowError) as error:
            # A record with a value of the wrong type (a hand-edited or foreign events file): say so, stay up.
            alerts = self.query_one(AlertBar)
            alerts.set_class(True, "-visible")
            alerts.set_markup(
                f"[b $error]UNREADABLE[/] a record in events.jsonl has a value of the wrong type:"
                f" {escape(str(error))}. Fix or remove that line to see this run."
            )
            return
        if charts_now:
            self._draw_charts()
            return
        # Live, the two chart groups take turns, each at most every CHART_INTERVAL_S and in the same
        # frame as the numbers: one paint per batch, and no frame pays for all five charts.
        now = time.monotonic()
        self._last_batch_at = now
        self._charts_stale = [True, True]
        group = self._chart_turn
        if now - self._chart_drawn_at[group] >= CHART_INTERVAL_S:
            self._draw_chart_group(group)
            self._chart_turn = 1 - group
        if not self._charts_pending:
            self._charts_pending = True
            self.set_timer(CHART_INTERVAL_S, self._draw_stale_charts)

    def _draw_stale_charts(self) -> None:
        """The trailing draw once batches stop coming (while they come, they draw the charts)."""
        self._charts_pending = False
        if time.monotonic() - self._last_batch_at < CHART_INTERVAL_S:
            self._charts_pending = True
            self.set_timer(CHART_INTERVAL_S, self._draw_stale_charts)
            return
        for group, stale in enumerate(self._charts_stale):
            if stale:
                self._draw_chart_group(group)

    def _draw_charts(self) -> None:
        self._draw_chart_group(0)
        self._draw_chart_group(1)

    def _draw_chart_group(self, group: int) -> None:
        self._chart_drawn_at[group] = time.monotonic()
        self._charts_stale[group] = False
        if group == 0:
            self._draw_loss_and_metric()
        else:
            self._draw_side_charts()

    def _draw_loss_and_metric(self) -> None:
        history = self.history
        loss = self.query_one("#loss-chart", LineChart)
        weight = history.loss.weight
        last = history.loss.raw.last
        latest = f"now {number(last[1])}" if last else ""
        loss.set_traces(
            [Trace("raw", history.loss.raw, "raw"), Trace(f"EMA {weight:g}", history.loss.smooth, "smooth")],
            legend_extra=latest,
        )
        names = history.metric_names()
        if self.metric_name not in names:  # a new run (or a history reset) may not have the chosen metric
            preferred = [name for name in names if not name.endswith("loss")]
            self.metric_name = (preferred or names or [""])[0]
        metric_chart = self.query_one("#metric-chart", LineChart)
        if self.metric_name:
            best = history.best_metric(self.metric_name)
            extra = f"best {number(best[0])} @ {best[1]:,}" if best else ""
            metric_chart.set_traces(
                [Trace(self.metric_name, history.metrics[self.metric_name], "c5")], legend_extra=extra
            )
            metric_chart.border_title = f"{self.metric_name} (m: next metric)"
        else:
            metric_chart.set_traces([])
            metric_chart.border_title = "metric"

    def _draw_side_charts(self) -> None:
        history = self.history
        last_lr = history.learning_rate.last
        self.query_one("#lr-chart", LineChart).set_traces(
            [Trace("learning rate", history.learning_rate, "c1")],
            legend_extra=f"now {number(last_lr[1])}" if last_lr else "",
        )
        last_grad = history.grad_norm.last
        self.query_one("#grad-chart", LineChart).set_traces(
            [Trace("grad norm", history.grad_norm, "c3")],
            legend_extra=f"now {number(last_grad[1])}" if last_grad else "",
        )
        throughput = []
        if history.samples_per_s.last:
            throughput.append(f"{number(history.samples_per_s.last[1], 3)} samples/s")
        if history.tokens_per_s.last:
            throughput.append(f"{number(history.tokens_per_s.last[1], 3)} tokens/s")
        self.query_one("#throughput-chart", LineChart).set_traces(
            [Trace("samples/s", history.samples_per_s, "c2")], legend_extra=" · ".join(throughput)
        )

    def _draw_evaluations(self) -> None:
        table = self.query_one("#eval-table", EvalTable)
        evaluations = self.history.evaluations
        names = self.history.metric_names()
        if len(evaluations) < self._evaluations_shown or names != self._metric_columns:
            # A resumed run dropped some, or a new metric appeared: start over.
            table.set_columns(["step", "epoch", *names])
            self._metric_columns = names
            self._evaluations_shown = 0
        table.add_rows(
            [
                (
                    f"{evaluation.step:,}",
                    f"{evaluation.epoch:.2f}",
                    *(number(evaluation.metrics.get(name)) for name in names),
                )
                for evaluation in evaluations[self._evaluations_shown :]
            ]
        )
        self._evaluations_shown = len(evaluations)

    # -- actions ----------------------------------------------------------------
    def action_toggle_log(self) -> None:
        chart = self.query_one("#loss-chart", LineChart)
        chart.log_scale = not chart.log_scale

    def action_zoom(self) -> None:
        self.zoom = ZOOMS[(ZOOMS.index(self.zoom) + 1) % len(ZOOMS)] if self.zoom in ZOOMS else 0
        for chart in self.query(LineChart):
            if chart.id != "metric-chart":
                chart.last_n = self.zoom
        self.notify("Charts: all steps" if not self.zoom else f"Charts: the last {self.zoom:,} steps", timeout=2)

    def action_smoothing(self, direction: int) -> None:
        weight = self.history.loss.weight
        steps = list(SMOOTHING_STEPS)
        index = min(range(len(steps)), key=lambda i: abs(steps[i] - weight))
        index = max(0, min(len(steps) - 1, index + direction))
        self.history.loss.set_weight(steps[index])
        self._draw_charts()

    def action_next_metric(self) -> None:
        names = self.history.metric_names()
        if not names:
            self.notify("No evaluation metrics yet", timeout=2)
            return
        index = names.index(self.metric_name) if self.metric_name in names else -1
        self.metric_name = names[(index + 1) % len(names)]
        self._draw_charts()

    def watch_status(self, old: str, new: str) -> None:
        if self.run_dir is None or old == new:
            return
        self.post_message(self.StatusChanged(self.run_dir, new))
        if old == "running" and new in ("finished", "stopped", "failed", "crashed"):
            severity = "information" if new in ("finished", "stopped") else "error"
            self.app.notify(f"{self.run_dir.name} {new}", title="Run ended", severity=severity, timeout=8)
