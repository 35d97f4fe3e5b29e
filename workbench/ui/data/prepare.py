"""The Prepare view: map columns to the model's inputs, tokenize, preview a padded batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static

from workbench.core.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.core.data.labels import LabelInfo
    from workbench.core.data.loading import OpenedDataset
    from workbench.core.data.prepare import CollatorPreview, Prepared, PreparePlan
    from workbench.core.data.selection import DatasetSelection


class DatasetsPrepareView(VerticalScroll):
    """Columns, settings, the preparation worker and its result.

    The column selects are the one place where the user changes the text, pair and label
    columns: a change posts `ColumnsChosen` (the pane updates the selection, which every view
    and the app then see). The pane pushes down the opened dataset, the selection and the model.
    """

    DEFAULT_CSS = """
    DatasetsPrepareView { height: 1fr; }
    DatasetsPrepareView .datasets-prepare-row { height: auto; }
    DatasetsPrepareView .datasets-prepare-row Label { padding: 1 1 0 1; width: auto; }
    DatasetsPrepareView .datasets-prepare-row Select { width: 1fr; }
    DatasetsPrepareView .datasets-prepare-row Input { width: 10; }
    DatasetsPrepareView ProgressBar { margin: 0 1; }
    """

    model_path: reactive[str] = reactive("", init=False)
    model_name: reactive[str] = reactive("", init=False)
    selection: reactive[DatasetSelection | None] = reactive(None, init=False)

    @dataclass
    class PrepareRequested(Message):
        text: str
        pair: str | None
        label: str | None
        max_length: int
        fraction: float
        seed: int
        rows: int

        @property
        def plan(self) -> PreparePlan:
            from workbench.core.data.prepare import PreparePlan

            return PreparePlan(self.text, self.pair, self.label, self.max_length, self.fraction, self.seed)

    @dataclass
    class CodeRequested(Message):
        """The user asked for the code of this preparation (the pane shows the dialog)."""

    @dataclass
    class ColumnsChosen(Message):
        """The user picked other columns in the selects."""

        text: str | None
        pair: str | None
        label: str | None

    @dataclass
    class LabelsInferred(Message):
        """The labels of a label column the user picked (None: no label column, or a `problem`)."""

        column: str | None
        labels: LabelInfo | None
        problem: str | None

    @dataclass
    class Progressed(Message):
        split: str
        done: int
        total: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DatasetsPrepareView.Progressed)

    @dataclass
    class Staged(Message):
        """A step of the preparation that has no row count (say, converting Parquet once)."""

        text: str

    @dataclass
    class Failed(Message):
        error: str

    @dataclass
    class DatasetPrepared(Message):
        """The preparation is done (bubbles to the pane, which publishes the selection)."""

        prepared: Prepared
        preview: CollatorPreview
        pad_token: str | None
        model_name: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.opened: OpenedDataset | None = None
        self.prepared: Prepared | None = None
        self.last_request: DatasetsPrepareView.PrepareRequested | None = None
        self.running = False

    def compose(self) -> ComposeResult:
        with Horizontal(classes="datasets-prepare-row"):
            yield Label("text")
            yield Select([], id="datasets-prepare-text", allow_blank=True, prompt="text column")
            yield Label("pair")
            yield Select([], id="datasets-prepare-pair", allow_blank=True, prompt="none")
            yield Label("label")
            yield Select([], id="datasets-prepare-label", allow_blank=True, prompt="none")
        with Horizontal(classes="datasets-prepare-row"):
            yield Label("max_length")
            yield Input("128", type="integer", id="datasets-prepare-max-length")
            yield Label("validation share")
            yield Input("0.1", type="number", id="datasets-prepare-fraction")
            yield Label("seed")
            yield Input("42", type="integer", id="datasets-prepare-seed")
        with Horizontal(classes="datasets-prepare-row"):
            yield Label("preview rows")
            yield Input("4", type="integer", id="datasets-prepare-rows")
            yield Button("Prepare (p)", variant="primary", id="datasets-prepare-run")
            yield Button("Show code (c)", id="datasets-prepare-code")
        yield ProgressBar(id="datasets-prepare-progress", show_eta=False)
        yield Static(
            "Map the columns, then press p to tokenize and preview a batch.", id="datasets-prepare-body", markup=False
        )

    # -- inputs pushed down by the pane -----------------------------------------------------------
    def show_dataset(self, opened: OpenedDataset) -> None:
        """A newly opened dataset: its columns in the selects, nothing prepared."""
        self.workers.cancel_group(self, "datasets-prepare")
        self.opened = opened
        self.prepared = None
        self.last_request = None
        self.running = False
        columns = next(iter(opened.rows.values())).column_names
        for select in self.query(Select):
            select.set_options([(name, name) for name in columns])
        self._show_columns(self.selection)
        self.show_text("Map the columns, then press p to tokenize and preview a batch.")

    def watch_selection(self, selection: DatasetSelection | None) -> None:
        self._show_columns(selection)

    def _show_columns(self, selection: DatasetSelection | None) -> None:
        if selection is None or self.opened is None:
            return
        columns = next(iter(self.opened.rows.values())).column_names
        values = (selection.text_column, selection.text_pair_column, selection.label_column)
        for widget_id, value in zip(("text", "pair", "label"), values):
            select = self.query_one(f"#datasets-prepare-{widget_id}", Select)
            wanted = value if value in columns else Select.NULL
            if select.value != wanted:
                select.value = wanted

    @on(Select.Changed)
    def _column_changed(self, event: Select.Changed) -> None:
        event.stop()
        chosen = (self._value("text"), self._value("pair"), self._value("label"))
        selection = self.selection
        if selection is None or chosen == (
            selection.text_column,
            selection.text_pair_column,
            selection.label_column,
        ):
            return
        self.post_message(self.ColumnsChosen(*chosen))
        if chosen[2] != selection.label_column and self.opened is not None:
            self._labels_worker(self.opened, chosen[2])

    @work(thread=True, exclusive=True, exit_on_error=False, group="datasets-labels")
    def _labels_worker(self, opened: OpenedDataset, column: str | None) -> None:
        from workbench.core.data.labels import infer_labels
        from workbench.core.data.prepare import training_split_name

        if column is None:
            self.post_message(self.LabelsInferred(column, None, None))
            return
        try:
            labels = infer_labels(opened.rows[training_split_name(opened.rows)], column)
        except WorkbenchError as error:
            self.post_message(self.LabelsInferred(column, None, str(error)))
            return
        self.post_message(self.LabelsInferred(column, labels, None))

    def watch_model_path(self) -> None:
        """The preparation belongs to one tokenizer: mark it stale."""
        if self.prepared is not None:
            self.prepared = None
            self.show_text("The model changed: press p to prepare with its tokenizer.")

    def _value(self, widget_id: str) -> str | None:
        value = self.query_one(f"#datasets-prepare-{widget_id}", Select).value
        return None if value is Select.NULL else str(value)

    def request(self) -> DatasetsPrepareView.PrepareRequested | None:
        text = self._value("text")
        if text is None:
            self.notify("Choose the text column first.", severity="warning")
            return None
        try:
            max_length = int(self.query_one("#datasets-prepare-max-length", Input).value)
            fraction = float(self.query_one("#datasets-prepare-fraction", Input).value)
            seed = int(self.query_one("#datasets-prepare-seed", Input).value)
            rows = int(self.query_one("#datasets-prepare-rows", Input).value)
        except ValueError:
            self.notify(
                "max_length, seed and preview rows are whole numbers; the validation share a number like 0.1.",
                severity="warning",
            )
            return None
        return self.PrepareRequested(
            text, self._value("pair"), self._value("label"), max_length, fraction, seed, max(1, min(rows, 64))
        )

    @on(Button.Pressed, "#datasets-prepare-run")
    def _run_pressed(self) -> None:
        self.run()

    @on(Button.Pressed, "#datasets-prepare-code")
    def _code(self) -> None:
        self.post_message(self.CodeRequested())

    def show_progress(self, done: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)

    def show_text(self, text: str) -> None:
        self.query_one("#datasets-prepare-body", Static).update(text)

    # -- the worker --------------------------------------------------------------------------------
    def run(self) -> None:
        """Tokenize with the selected columns and settings, in a worker."""
        request = self.request()
        if request is None or self.opened is None:
            return
        self.last_request = request
        self.running = True
        self.show_text("Preparing …")
        self.show_progress(0, 1)
        self._worker(self.opened, request.plan, request.rows, self.model_path, self.model_name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="datasets-prepare")
    def _worker(self, opened: OpenedDataset, plan: PreparePlan, rows: int, model_path: str, model_name: str) -> None:
        from workbench.core.data.prepare import collator_preview, prepare, training_split_name
        from workbench.core.tokenizer.loader import load_hf_tokenizer as load_tokenizer

        try:
            tokenizer = load_tokenizer(model_path)
            if not getattr(opened.splits, "built", True):
                self.post_message(
                    self.Staged(f"Converting {opened.name} to Arrow for datasets (once; the cache is reused) …")
                )
            prepared = prepare(
                dict(opened.splits),
                plan,
                tokenizer,
                lambda split, done, total: self.post_message(self.Progressed(split, done, total)),
            )
            preview = collator_preview(prepared.splits[training_split_name(prepared.splits)], tokenizer, rows)
        except WorkbenchError as error:
            self.post_message(self.Failed(str(error)))
            return
        except Exception as error:  # an unexpected library error: shown, never a traceback on screen
            self.post_message(self.Failed(f"{type(error).__name__}: {error}"))
            return
        self.post_message(self.DatasetPrepared(prepared, preview, tokenizer.pad_token, model_name))

    @on(Staged)
    def _staged(self, message: Staged) -> None:
        message.stop()
        if self.running:
            self.show_text(message.text)

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        message.stop()
        self.show_progress(message.done, message.total)
        self.show_text(f"Tokenizing {message.split}: {message.done:,} of {message.total:,} rows …")

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        message.stop()
        self.running = False
        self.show_text(message.error)
        self.notify(message.error, severity="error", timeout=10, markup=False)

    @on(DatasetPrepared)
    def _prepared(self, message: DatasetPrepared) -> None:
        # Not stopped: the pane publishes the prepared selection.
        prepared = message.prepared
        self.prepared = prepared
        self.running = False
        self.show_progress(1, 1)
        summary = prepared_summary(prepared, message.model_name)
        preview = message.preview
        self.show_text(preview_text(summary, preview.tokens, preview.tensors, message.pad_token))

    def preparation_code(self) -> str:
        """The datasets/transformers code of the last (or the mapped) preparation."""
        from workbench.core.data.codegen import preparation_code
        from workbench.core.tokenizer.loader import tokenizer_path as resolve_model_path

        assert self.opened is not None
        request = self.last_request or self.request()
        plan = request.plan if request is not None else None
        labels = self.prepared.labels if self.prepared is not None else None
        if labels is None and plan is not None and plan.label_column:
            from workbench.core.data.labels import infer_labels
            from workbench.core.data.prepare import training_split_name

            try:
                labels = infer_labels(self.opened.rows[training_split_name(self.opened.rows)], plan.label_column)
            except WorkbenchError:
                labels = None
        rows = request.rows if request is not None else 4
        return preparation_code(self.opened, plan, labels, resolve_model_path(self.model_path), rows)


def prepared_summary(prepared: Prepared, model_name: str) -> list[str]:
    labels = prepared.labels
    summary = [f"Tokenizer: {model_name} · max_length {prepared.plan.max_length} · truncation on"]
    if labels is None:
        summary.append("No label column: a dataset for inference or language modelling.")
    elif labels.task == "regression":
        summary.append("Float labels: a regression head (num_labels=1).")
    else:
        summary.append(
            f"{labels.num_labels} classes (num_labels={labels.num_labels}): "
            + ", ".join(f"{i}={name}" for i, name in enumerate(labels.names[:12]))
            + (" …" if labels.num_labels > 12 else "")
        )
    summary += prepared.notes
    for name, dataset in prepared.splits.items():
        cache = "datasets cache reused" if prepared.reused_cache.get(name) else "tokenized"
        summary.append(f"{name}: {dataset.num_rows:,} rows, {cache}; columns {', '.join(dataset.column_names)}")
    return summary


def preview_text(summary: list[str], tokens: list[list[str]], tensors: dict, pad_token: str | None) -> str:
    """The collator's batch as tokens (padding dimmed as ·) and as tensors with shapes."""
    lines = list(summary)
    lines += ["", "Batch from DataCollatorWithPadding (padded to the longest row):", ""]
    for index, row in enumerate(tokens):
        shown = ["·" if token == pad_token else token for token in row]
        lines.append(f"  row {index}: " + " ".join(shown))
    lines.append("")
    for name, (shape, dtype, values) in tensors.items():
        lines.append(f"  {name}  shape={list(shape)}  dtype={dtype}")
        if isinstance(values, list) and values and isinstance(values[0], list):
            for row in values:
                cells = " ".join(str(v) for v in row[:24]) + (" …" if len(row) > 24 else "")
                lines.append(f"    [{cells}]")
        else:
            lines.append(f"    {values}")
    return "\n".join(lines)
