"""The Statistics view: label distribution, text lengths (characters and tokens) as
histograms, the share `max_length` truncates and the padding each batching wastes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, ProgressBar, Static

if TYPE_CHECKING:
    import numpy as np

BAR_WIDTH = 36


@dataclass
class StatsResult:
    split: str
    text_column: str | None
    pair_column: str | None
    label_column: str | None
    labels: list[tuple[str, int]]
    char_lengths: np.ndarray | None
    token_lengths: np.ndarray | None
    model_name: str


def bar_lines(rows: list[tuple[str, int]], width: int = BAR_WIDTH) -> list[str]:
    """One text line per (label, count): a bar scaled to the largest count, and the share."""
    if not rows:
        return ["  (no values)"]
    total = sum(count for _, count in rows) or 1
    top = max(count for _, count in rows) or 1
    label_width = min(24, max(len(label) for label, _ in rows))
    lines = []
    for label, count in rows:
        filled = count * width / top
        bar = "█" * int(filled) + ("▌" if filled - int(filled) >= 0.5 else "")
        lines.append(f"  {label[:label_width]:>{label_width}} {bar:<{width}} {count:>9,}  {count / total:6.1%}")
    return lines


def histogram_lines(lengths: np.ndarray, bins: int = 12) -> list[str]:
    from workbench.core.data.stats import summarize

    summary = summarize(lengths, bins)
    head = (
        f"  {summary.count:,} values · min {summary.minimum} · mean {summary.mean:.1f} · median {summary.median:.0f}"
        f" · p95 {summary.p95:.0f} · max {summary.maximum}"
    )
    edges, counts = summary.histogram.edges, summary.histogram.counts
    rows = [
        (f"{edges[i]}" if edges[i + 1] - edges[i] == 1 else f"{edges[i]}–{edges[i + 1] - 1}", count)
        for i, count in enumerate(counts)
    ]
    return [head] + bar_lines(rows)


class DatasetsStatsView(VerticalScroll):
    DEFAULT_CSS = """
    DatasetsStatsView { height: 1fr; }
    DatasetsStatsView #datasets-stats-controls { height: auto; }
    DatasetsStatsView #datasets-stats-controls Label { padding: 1 1 0 1; }
    DatasetsStatsView #datasets-stats-controls Input { width: 12; }
    DatasetsStatsView ProgressBar { margin: 0 1; }
    DatasetsStatsView .datasets-stats-title { text-style: bold; color: $accent; margin-top: 1; }
    """

    class ComputeRequested(Message):
        """The user asked for statistics (the pane runs the worker)."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="datasets-stats-controls"):
            yield Label("max_length")
            yield Input("128", type="integer", id="datasets-stats-max-length")
            yield Label("batch size")
            yield Input("32", type="integer", id="datasets-stats-batch")
            yield Button("Compute (s)", id="datasets-stats-compute")
        yield ProgressBar(id="datasets-stats-progress", show_eta=False)
        yield Static("Press s to compute the statistics of this split.", id="datasets-stats-body", markup=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.result: StatsResult | None = None

    @property
    def max_length(self) -> int:
        return _positive(self.query_one("#datasets-stats-max-length", Input).value, 128)

    @property
    def batch_size(self) -> int:
        return _positive(self.query_one("#datasets-stats-batch", Input).value, 32)

    @on(Button.Pressed, "#datasets-stats-compute")
    def _compute(self) -> None:
        self.post_message(self.ComputeRequested())

    @on(Input.Changed)
    def _settings_changed(self) -> None:
        if self.result is not None:
            self._redraw()

    def show_progress(self, done: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)

    def show_message(self, text: str) -> None:
        self.result = None
        self.query_one("#datasets-stats-body", Static).update(text)

    def show_result(self, result: StatsResult) -> None:
        self.result = result
        self._redraw()

    def _redraw(self) -> None:
        from workbench.core.data.stats import padding_waste, truncated_share

        result = self.result
        assert result is not None
        lines: list[str] = [f"Split {result.split}"]
        if result.label_column:
            lines += ["", f"Labels · {result.label_column}"] + bar_lines(result.labels)
        if result.char_lengths is not None:
            what = result.text_column + (f" + {result.pair_column}" if result.pair_column else "")
            lines += ["", f"Length in characters · {what}"] + histogram_lines(result.char_lengths)
        if result.token_lengths is not None and len(result.token_lengths):
            tokens = result.token_lengths
            max_length, batch = self.max_length, self.batch_size
            waste = padding_waste(tokens, batch, max_length)
            lines += ["", f"Length in tokens · {result.model_name} (with special tokens)"] + histogram_lines(tokens)
            lines += [
                "",
                f"max_length {max_length} truncates {truncated_share(tokens, max_length):.1%} of the examples"
                f" ({int((tokens > max_length).sum()):,} of {len(tokens):,}).",
                f"Padding waste at batch size {batch}: dynamic (DataCollatorWithPadding) {waste.dynamic:.1%}"
                f" · grouped by length {waste.grouped:.1%} · fixed to {max_length}: {waste.fixed:.1%}",
            ]
        self.query_one("#datasets-stats-body", Static).update("\n".join(lines))


def _positive(text: str, default: int) -> int:
    try:
        value = int(text)
    except ValueError:
        return default
    return value if value > 0 else default
