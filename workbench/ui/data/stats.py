"""The Statistics view: label distribution, text lengths (characters and tokens) as
histograms, the share `max_length` truncates and the padding each batching wastes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Input, Label, ProgressBar, Static
from textual.worker import get_current_worker

from workbench.core.errors import WorkbenchError
from workbench.ui.data.task_stats_view import TaskStatsView

if TYPE_CHECKING:
    import numpy as np

    from workbench.core.data.rows import RowSource
    from workbench.core.data.selection import DatasetSelection

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
    label_task: str | None = None  # "regression": `labels` are value ranges, not classes


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
    """Statistics of one split for the selected columns and the active model's tokenizer.

    It owns its worker and its result; the pane pushes down the split (`show_split`), the
    selection and the model (reactives), and a change of either marks the result stale.
    """

    DEFAULT_CSS = """
    DatasetsStatsView { height: 1fr; }
    DatasetsStatsView #datasets-stats-controls { height: auto; }
    DatasetsStatsView #datasets-stats-controls Label { padding: 1 1 0 1; }
    DatasetsStatsView #datasets-stats-controls Input { width: 12; }
    DatasetsStatsView ProgressBar { margin: 0 1; }
    DatasetsStatsView .datasets-stats-title { text-style: bold; color: $accent; margin-top: 1; }
    """

    model_path: reactive[str] = reactive("", init=False)
    model_name: reactive[str] = reactive("", init=False)
    selection: reactive[DatasetSelection | None] = reactive(None, init=False)

    @dataclass
    class Progressed(Message):
        serial: int
        done: int
        total: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DatasetsStatsView.Progressed)

    @dataclass
    class Computed(Message):
        serial: int
        result: StatsResult

    @dataclass
    class Failed(Message):
        serial: int
        error: str

    def compose(self) -> ComposeResult:
        with Horizontal(id="datasets-stats-controls"):
            yield Label("max_length")
            yield Input("128", type="integer", id="datasets-stats-max-length")
            yield Label("batch size")
            yield Input("32", type="integer", id="datasets-stats-batch")
            yield Button("Compute (s)", id="datasets-stats-compute")
        yield ProgressBar(id="datasets-stats-progress", show_eta=False)
        yield Static("Press s to compute the statistics of this split.", id="datasets-stats-body", markup=False)
        # Task-shaped data (CoNLL, SQuAD, or a task picked there): its own statistics instead of these.
        yield TaskStatsView(id="datasets-task-stats").data_bind(
            DatasetsStatsView.selection, DatasetsStatsView.model_path, DatasetsStatsView.model_name
        )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.result: StatsResult | None = None
        self.source: RowSource | None = None
        self.split: str | None = None
        self.computed_for: tuple | None = None
        self.serial = 0
        self.running = False

    @property
    def max_length(self) -> int:
        return _positive(self.query_one("#datasets-stats-max-length", Input).value, 128)

    @property
    def batch_size(self) -> int:
        return _positive(self.query_one("#datasets-stats-batch", Input).value, 32)

    # -- inputs pushed down by the pane -----------------------------------------------------------
    def show_split(self, source: RowSource, split: str) -> None:
        self.workers.cancel_group(self, "datasets-stats")
        self.source, self.split = source, split
        self.computed_for = None
        self.running = False
        self.show_message(f"Press s to compute the statistics of {split}.")
        self.query_one(TaskStatsView).show_split(source, split)

    @on(TaskStatsView.TaskChosen)
    def _task_chosen(self, message: TaskStatsView.TaskChosen) -> None:
        """With a task, its statistics replace the text and label ones."""
        message.stop()
        for widget in ("#datasets-stats-controls", "#datasets-stats-progress", "#datasets-stats-body"):
            self.query_one(widget).display = message.task is None

    def watch_model_path(self) -> None:
        """Token statistics belong to one tokenizer: mark them stale."""
        if self.computed_for is not None:
            self.computed_for = None
            self.show_message("The model changed: press s to recompute with its tokenizer.")

    def watch_selection(self, old: DatasetSelection | None, new: DatasetSelection | None) -> None:
        columns = _columns(new)
        if self.computed_for is not None and self.computed_for[1:4] != columns:
            self.computed_for = None
            self.show_message("The columns changed: press s to recompute.")

    # -- the worker --------------------------------------------------------------------------------
    @on(Button.Pressed, "#datasets-stats-compute")
    def _compute_pressed(self) -> None:
        self.compute(force=True)

    def compute(self, *, force: bool = False) -> None:
        """Compute for this split, columns and model (once, unless forced)."""
        if self.query_one(TaskStatsView).task is not None:
            self.query_one(TaskStatsView).compute(force=force)
            return
        if self.source is None:
            return
        text, pair, label = _columns(self.selection)
        key = (self.split, text, pair, label, self.model_path)
        if self.computed_for == key and not force:
            return
        self.computed_for = key
        self.serial += 1
        self.running = True
        self.show_message("Computing …")
        self.show_progress(0, self.source.num_rows)
        task = self.selection.task if self.selection is not None else None
        self._worker(self.serial, self.source, self.split, text, pair, label, task, self.model_path, self.model_name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="datasets-stats")
    def _worker(
        self,
        serial: int,
        dataset: RowSource,
        split: str,
        text: str | None,
        pair: str | None,
        label: str | None,
        task: str | None,
        model_path: str,
        model_name: str,
    ) -> None:
        import numpy as np

        from workbench.core.data import stats
        from workbench.core.tokenizer.loader import load_hf_tokenizer as load_tokenizer

        worker = get_current_worker()
        try:
            labels = stats.label_distribution(dataset, label) if label else []
            chars = tokens = None
            if text:
                chars = stats.char_lengths(dataset, text)
                if pair:
                    chars = chars + stats.char_lengths(dataset, pair)
                tokenizer = load_tokenizer(model_path)
                parts = []
                for done, lengths in stats.iter_token_lengths(dataset, tokenizer, text, pair):
                    if worker.is_cancelled:
                        return
                    parts.append(lengths)
                    self.post_message(self.Progressed(serial, done, dataset.num_rows))
                tokens = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
            result = StatsResult(split, text, pair, label, labels, chars, tokens, model_name, task)
        except WorkbenchError as error:
            self.post_message(self.Failed(serial, str(error)))
            return
        except Exception as error:  # an unexpected library error: shown, never a traceback on screen
            self.post_message(self.Failed(serial, f"{type(error).__name__}: {error}"))
            return
        self.post_message(self.Computed(serial, result))

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        message.stop()
        if message.serial == self.serial:
            self.show_progress(message.done, message.total)

    @on(Computed)
    def _computed(self, message: Computed) -> None:
        message.stop()
        if message.serial == self.serial:
            self.running = False
            self.show_progress(1, 1)
            self.show_result(message.result)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        message.stop()
        if message.serial != self.serial:
            return
        self.running = False
        self.computed_for = None
        self.show_message(message.error)
        self.notify(message.error, severity="error", timeout=10, markup=False)

    # -- drawing -----------------------------------------------------------------------------------
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
            what = " (a regression target: value ranges)" if result.label_task == "regression" else ""
            lines += ["", f"Labels · {result.label_column}{what}"] + bar_lines(result.labels)
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


def _columns(selection: DatasetSelection | None) -> tuple[str | None, str | None, str | None]:
    if selection is None:
        return None, None, None
    return selection.text_column, selection.text_pair_column, selection.label_column
