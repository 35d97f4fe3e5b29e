"""Compare runs: the loss (or any metric) of several runs overlaid, and the settings that differ."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable

from workbench.core.formatting import number
from workbench.core.runs.folder import never_launched
from workbench.core.runs.follow import RunFollower
from workbench.core.runs.history import RunHistory
from workbench.ui.training.chart import LineChart, Trace

RUN_STYLES = ("c1", "c2", "c3", "c4", "c5", "c6", "smooth", "raw")
BUILT_IN = ("loss", "loss (raw)", "learning rate", "grad norm", "samples/s")


def curve(history: RunHistory, name: str):
    if name == "loss":
        return history.loss.smooth
    if name == "loss (raw)":
        return history.loss.raw
    if name == "learning rate":
        return history.learning_rate
    if name == "grad norm":
        return history.grad_norm
    if name == "samples/s":
        return history.samples_per_s
    return history.metrics.get(name)


def curve_label(histories: list[RunHistory], name: str) -> str:
    """The curve's name as shown: the smoothed loss says it is an EMA, and of which weight."""
    if name == "loss":
        weights = sorted({history.loss.weight for history in histories})
        return "loss (EMA " + ", ".join(f"{weight:g}" for weight in weights) + ")" if weights else "loss (EMA)"
    return name


def last_value(history: RunHistory, name: str):
    """(step, value) of the curve's last point; for the loss the last loss logged, not its EMA."""
    series = history.loss.raw if name == "loss" else curve(history, name)
    return series.last if series is not None else None


def differing_settings(specs: list[dict]) -> list[str]:
    """Dotted keys whose values differ between the specs (what makes the runs different)."""
    keys: set[str] = set()
    for spec in specs:
        for section, values in spec.items():
            if isinstance(values, dict):
                keys.update(f"{section}.{key}" for key in values)

    def get(spec: dict, key: str):
        section, name = key.split(".", 1)
        return spec.get(section, {}).get(name) if isinstance(spec.get(section), dict) else None

    return sorted(key for key in keys if len({repr(get(spec, key)) for spec in specs}) > 1)


class CompareView(Vertical, can_focus=True):
    DEFAULT_CSS = """
    CompareView { height: 1fr; }
    CompareView #compare-chart { height: 2fr; min-height: 10; border: round $panel-lighten-2; }
    CompareView #compare-table { height: 1fr; border: round $panel-lighten-2; }
    """
    BINDINGS = [
        Binding(
            "m", "next_curve", "Curve", id="compare.curve", tooltip="Overlay the next curve: loss, metrics, lr, ..."
        ),
        Binding("l", "toggle_log", "Log scale", id="compare.log_scale", tooltip="Linear or log scale"),
        Binding("z", "zoom", "Zoom", id="compare.zoom", tooltip="All steps or the last 100/1,000/10,000"),
    ]

    @dataclass
    class Loaded(Message):
        folders: list[Path]
        histories: list[RunHistory]
        statuses: list[str]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.folders: list[Path] = []
        self.histories: list[RunHistory] = []
        self.statuses: list[str] = []
        self.curve_name = "loss"

    def compose(self) -> ComposeResult:
        yield LineChart("choose runs to compare", id="compare-chart")
        yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#compare-table").border_title = "runs and the settings that differ"

    def compare(self, folders: list[Path]) -> None:
        self.folders = list(folders)
        self.load(self.folders)

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare-load", name="compare loader")
    def load(self, folders: list[Path]) -> None:
        histories, statuses = [], []
        for folder in folders:
            follower = RunFollower(folder)
            history = follower.load()[0]
            histories.append(history)
            if follower.child_gone():
                statuses.append("crashed")
            else:
                statuses.append("prepared" if never_launched(folder) else history.status)
        self.post_message(self.Loaded(folders, histories, statuses))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        message.stop()
        if message.folders != self.folders:
            return
        self.histories = message.histories
        self.statuses = message.statuses
        self.redraw()

    def curve_names(self) -> list[str]:
        metrics = sorted({name for history in self.histories for name in history.metrics})
        return [*BUILT_IN, *metrics]

    def redraw(self) -> None:
        chart = self.query_one("#compare-chart", LineChart)
        traces = []
        for index, (folder, history) in enumerate(zip(self.folders, self.histories)):
            series = curve(history, self.curve_name)
            if series is not None:
                traces.append(Trace(history.run_id or folder.name, series, RUN_STYLES[index % len(RUN_STYLES)]))
        chart.border_title = f"compare: {curve_label(self.histories, self.curve_name)}"
        chart.border_subtitle = "m curve · l log · z zoom"
        chart.set_traces(traces)
        self._fill_table()

    def _fill_table(self) -> None:
        table = self.query_one("#compare-table", DataTable)
        table.clear(columns=True)
        specs = [history.spec for history in self.histories]
        differing = differing_settings(specs) if len(specs) > 1 else []
        table.add_columns("run", "status", "steps", f"last {self.curve_name}", "best", *differing)
        for folder, history, status in zip(self.folders, self.histories, self.statuses):
            point = last_value(history, self.curve_name)
            last = number(point[1]) if point else "—"
            best_name = next((name for name in history.metric_names() if not name.endswith("loss")), "")
            best = history.best_metric(best_name) if best_name else None
            values = []
            for key in differing:
                section, name = key.split(".", 1)
                values.append(str(history.spec.get(section, {}).get(name, "—")))
            table.add_row(
                history.run_id or folder.name,
                status,
                f"{history.step:,}",
                last,
                f"{best_name} {number(best[0])}" if best else "—",
                *values,
            )

    def action_next_curve(self) -> None:
        names = self.curve_names()
        index = names.index(self.curve_name) if self.curve_name in names else -1
        self.curve_name = names[(index + 1) % len(names)]
        self.redraw()

    def action_toggle_log(self) -> None:
        chart = self.query_one("#compare-chart", LineChart)
        chart.log_scale = not chart.log_scale

    def action_zoom(self) -> None:
        chart = self.query_one("#compare-chart", LineChart)
        zooms = (0, 100, 1_000, 10_000)
        chart.last_n = zooms[(zooms.index(chart.last_n) + 1) % len(zooms)] if chart.last_n in zooms else 0
