"""The Heads tab: every head compared with the checkpoint, labels, opt-ins, and loading one.

The view owns its workers (comparing heads on the meta device, loading for real), their
messages and its state (the chosen head, labels, opt-ins, reports). The pane pushes the
checkpoint down with `show_checkpoint` and the open dataset through the `dataset` var; the
view posts `HeadChanged`, and lets `ModelLoaded` / `LoadFailed` bubble to the pane.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import var
from textual.widgets import Button, Checkbox, DataTable, Input, ProgressBar, Static
from textual.worker import Worker, get_current_worker

from workbench.core.errors import WorkbenchError
from workbench.core.models.heads import HEADS_BY_KEY, head_kind
from workbench.core.models.inspect import CheckpointInfo
from workbench.core.models.labels import Labels, format_labels, labels_from_dataset, parse_labels
from workbench.ui.models.summary import HeadsTable, human_count
from workbench.ui.themes import head_style

COMPARING = "Comparing each head with the checkpoint…"


class HeadsView(VerticalScroll):
    dataset: var[dict | None] = var(None)  # the open dataset (labels from it), pushed down by the pane

    @dataclass
    class HeadChanged(Message):
        """The chosen head changed (the playground follows it)."""

        key: str

    @dataclass
    class HeadsAnalysed(Message):
        info: CheckpointInfo
        reports: list
        labels: Labels | None
        error: str | None = None

    @dataclass
    class LoadProgressed(Message):
        step: str
        fraction: float

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, HeadsView.LoadProgressed)

    @dataclass
    class ModelLoaded(Message):
        loaded: object  # workbench.core.models.loading.LoadedModel

    @dataclass
    class LoadFailed(Message):
        error: WorkbenchError

    def __init__(self) -> None:
        super().__init__()
        self.info: CheckpointInfo | None = None
        self.head_key = "base"
        self.labels: Labels | None = None  # None: the checkpoint's own labels
        self.reports: dict[str, object] = {}
        self.opt_ins: dict[str, dict[str, bool]] = {}  # checkpoint path -> {"trust": .., "pickle": ..}
        self.load_worker: Worker | None = None
        self._head_chosen = False  # the user picked a head for this checkpoint

    def compose(self) -> ComposeResult:
        yield HeadsTable(id="model-heads")
        with Horizontal(id="label-row"):
            yield Input(placeholder="Labels: neg, pos · 0=neg, 1=pos · a count", id="model-labels")
            yield Button("From dataset", id="labels-from-dataset")
        with Horizontal(id="option-row"):
            yield Checkbox(
                "Fresh head",
                id="opt-fresh-head",
                tooltip="ignore_mismatched_sizes: a new head for a different label count",
            )
            yield Checkbox(
                "Trust remote code",
                id="opt-trust",
                tooltip="Run the Python code this checkpoint ships (this model only)",
            )
            yield Checkbox(
                "Allow pickle", id="opt-pickle", tooltip="Unpickle pytorch_model.bin weights (this model only)"
            )
        with Horizontal(id="load-row"):
            yield Button("Load  ^l", id="model-load", variant="primary")
            yield Button("Cancel  esc", id="model-cancel", disabled=True)
            yield Button("Use as active  ^t", id="model-use")
            yield Button("Save…  ^s", id="model-save")
        yield ProgressBar(total=100, show_eta=False, id="load-progress")
        yield Static("", id="load-status")
        yield Static(COMPARING, id="head-detail")

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False

    def _colour(self, name: str) -> str:
        return head_style(self.app.current_theme.variables, name)

    def set_status(self, text: Text | str) -> None:
        self.query_one("#load-status", Static).update(text)

    # -- the checkpoint ------------------------------------------------------------
    def show_checkpoint(self, info: CheckpointInfo, analyse: bool) -> None:
        """A new checkpoint: its own labels and head; compare the heads now if shown."""
        self.info = info
        self.reports = {}
        self.labels = None
        opt_ins = self.opt_ins.get(str(info.path), {})
        self.query_one("#opt-trust", Checkbox).value = opt_ins.get("trust", False)
        self.query_one("#opt-pickle", Checkbox).value = opt_ins.get("pickle", False)
        self.query_one("#opt-fresh-head", Checkbox).value = False
        self.query_one("#model-labels", Input).value = format_labels(info.id2label) if info.id2label else ""
        self.query_one(HeadsTable).clear()
        self.query_one("#head-detail", Static).update(COMPARING)
        self.head_key = default_head(info)
        self._head_chosen = False
        self._sync_head_widgets()
        if analyse:
            self.analyse(info, None)

    def analyse_if_needed(self) -> None:
        if self.info is not None and not self.reports:
            self.analyse(self.info, self.labels)

    @work(thread=True, exclusive=True, exit_on_error=False, group="models-heads")
    def analyse(self, info: CheckpointInfo, labels: Labels | None) -> None:
        from workbench.core.models.loading import analyse_heads

        options = self.opt_ins.get(str(info.path), {})
        try:
            if info.config.get("auto_map") and not options.get("trust"):
                from workbench.core.models.inspect import check_architecture

                check_architecture(info)
                if info.needs_remote_code:
                    error = "Heads need the checkpoint's own code: tick 'Trust remote code' to compare them."
                    self.post_message(self.HeadsAnalysed(info, [], labels, error))
                    return
            reports = analyse_heads(
                info,
                labels=labels,
                trust_remote_code=options.get("trust", False),
                allow_pickle=options.get("pickle", False),
            )
        except WorkbenchError as error:
            self.post_message(self.HeadsAnalysed(info, [], labels, str(error)))
            return
        except Exception as error:  # noqa: BLE001 - an unposted failure would leave "Comparing…" forever
            failed = f"Comparing heads failed: {type(error).__name__}: {error}"
            self.post_message(self.HeadsAnalysed(info, [], labels, failed))
            return
        self.post_message(self.HeadsAnalysed(info, reports, labels))

    @on(HeadsAnalysed)
    def _heads_analysed(self, message: HeadsAnalysed) -> None:
        # Not stopped: the pane shows the warnings checking the architecture added.
        if message.info is not self.info:
            return  # an answer about a checkpoint no longer shown
        if message.error or not message.reports:
            self.query_one("#head-detail", Static).update(
                Text(
                    message.error or "transformers implements no heads for this architecture.",
                    style=f"bold {self._colour('head-error')}",
                )
            )
            return
        first_answer = not self.reports
        self.reports = {report.head.key: report for report in message.reports}
        saved_as = [report.head.key for report in message.reports if report.class_name in message.info.architectures]
        if first_answer and saved_as and not self._head_chosen:
            self.head_key = saved_as[0]  # the head the checkpoint was saved with
        if self.head_key not in self.reports:
            self.head_key = next(iter(self.reports))
        self.query_one(HeadsTable).show_reports(message.reports, self.head_key)
        self._sync_head_widgets()

    # -- the head --------------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#model-heads")
    def _head_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value if event.row_key else None
        if key and key != self.head_key and key in HEADS_BY_KEY:
            self.head_key = key
            self._head_chosen = True
            self._sync_head_widgets()

    def select_head(self, key: str) -> None:
        """Choose the head (as a click on its row does)."""
        head_kind(key)
        self.head_key = key
        self._head_chosen = True
        if key in self.reports:
            self.query_one(HeadsTable).move_cursor(row=list(self.reports).index(key))
        self._sync_head_widgets()

    def _sync_head_widgets(self) -> None:
        head = HEADS_BY_KEY[self.head_key]
        for widget_id in ("#label-row", "#opt-fresh-head"):
            self.query_one(widget_id).display = head.takes_labels
        self.query_one("#opt-pickle").display = bool(self.info and self.info.weights.format == "pickle")
        self.query_one("#opt-trust").display = bool(self.info and self.info.config.get("auto_map"))
        self._show_head_detail()
        self.post_message(self.HeadChanged(self.head_key))

    def _show_head_detail(self) -> None:
        report = self.reports.get(self.head_key)
        if report is None:
            return
        kept, new, unused = self._colour("head-kept"), self._colour("head-new"), self._colour("head-unused")
        text = Text()
        text.append(f"{report.head.title}", style="bold")
        text.append(
            f" · {report.class_name} · {human_count(report.total_params)} parameters"
            f" ({human_count(report.base_params)} base + {human_count(report.head_params)} head)\n"
        )
        if report.head_all_new:
            text.append(
                "New head: every weight of it is random, so its output is noise until trained.\n", style=f"bold {new}"
            )
        text.append(f"From the checkpoint: {len(report.from_checkpoint)} tensors\n", style=kept)
        if report.new:
            text.append(f"New (random): {_keys(report.new)}\n", style=new)
        if report.mismatched:
            text.append(
                "Size differs, replaced by a fresh head: "
                + ", ".join(f"{key} {list(old)}→{list(new_shape)}" for key, old, new_shape in report.mismatched)
                + "\n",
                style=new,
            )
            text.append("Tick 'Fresh head' to load with the new labels (ignore_mismatched_sizes).\n", style="bold")
        if report.unused:
            text.append(f"Unused from the checkpoint: {_keys(report.unused)}\n", style=unused)
        self.query_one("#head-detail", Static).update(text)

    # -- labels and opt-ins ------------------------------------------------------------
    @on(Input.Submitted, "#model-labels")
    def _labels_submitted(self, event: Input.Submitted) -> None:
        self.apply_labels(event.value)

    def apply_labels(self, text: str) -> bool:
        try:
            labels = parse_labels(text) if text.strip() else None
        except WorkbenchError as error:
            self.query_one("#head-detail", Static).update(Text(str(error), style=f"bold {self._colour('head-error')}"))
            self.notify(error.message, severity="error")
            return False
        if self.info is not None and labels is not None and labels.id2label == self.info.id2label:
            labels = None
        self.labels = labels
        if self.info is not None:
            self.analyse(self.info, labels)
        return True

    @on(Button.Pressed, "#labels-from-dataset")
    def labels_from_dataset(self) -> None:
        try:
            labels = labels_from_dataset(self.dataset)
        except WorkbenchError as error:
            self.notify(str(error), severity="warning")
            return
        self.query_one("#model-labels", Input).value = format_labels(labels.id2label)
        self.apply_labels(format_labels(labels.id2label))

    @on(Checkbox.Changed, "#opt-trust, #opt-pickle")
    def _opt_in_changed(self, event: Checkbox.Changed) -> None:
        if self.info is None:
            return
        key = "trust" if event.checkbox.id == "opt-trust" else "pickle"
        self.opt_ins.setdefault(str(self.info.path), {})[key] = event.value
        if event.value:
            what = "run this checkpoint's Python code" if key == "trust" else "unpickle this checkpoint's weights"
            self.notify(f"You allowed workbench to {what} ({self.info.name} only).", severity="warning")
        self.reports = {}
        self.analyse(self.info, self.labels)

    # -- loading -----------------------------------------------------------------------
    def options(self):
        """The LoadOptions the widgets say: head, labels (for heads that take them), opt-ins."""
        from workbench.core.models.loading import LoadOptions

        opt_ins = self.opt_ins.get(str(self.info.path), {}) if self.info else {}
        head = head_kind(self.head_key)
        return LoadOptions(
            head=head,
            labels=self.labels if head.takes_labels else None,
            trust_remote_code=opt_ins.get("trust", False),
            allow_pickle=opt_ins.get("pickle", False),
            ignore_mismatched_sizes=self.query_one("#opt-fresh-head", Checkbox).value,
        )

    def load(self) -> bool:
        """Start loading the checkpoint with the chosen head; False when the labels are not valid."""
        if self.info is None:
            return False
        label_text = self.query_one("#model-labels", Input).value
        shown = format_labels(self.labels.id2label if self.labels else self.info.id2label)
        if HEADS_BY_KEY[self.head_key].takes_labels and label_text.strip() != shown:
            if not self.apply_labels(label_text):
                return False
        self.query_one(ProgressBar).display = True
        self.query_one(ProgressBar).update(progress=0)
        self.query_one("#model-cancel", Button).disabled = False
        self.query_one("#model-load", Button).disabled = True
        self.set_status(f"Loading {self.info.name} with the {HEADS_BY_KEY[self.head_key].title.lower()} head…")
        self.load_worker = self._load(self.info, self.options())
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="models-load")
    def _load(self, info: CheckpointInfo, options) -> None:
        from workbench.core.models.loading import Cancelled, load_model

        worker = get_current_worker()
        try:
            loaded = load_model(
                info,
                options,
                should_stop=lambda: worker.is_cancelled,
                progress=lambda step, fraction: self.post_message(self.LoadProgressed(step, fraction)),
            )
        except WorkbenchError as error:
            self.post_message(self.LoadFailed(error))
            return
        except Exception as error:  # noqa: BLE001 - shown to the user, never a traceback on screen
            self.post_message(self.LoadFailed(WorkbenchError(f"Loading failed: {type(error).__name__}: {error}")))
            return
        if worker.is_cancelled:
            self.post_message(self.LoadFailed(Cancelled(f"Loading {info.name} was cancelled.")))
            return
        self.post_message(self.ModelLoaded(loaded))

    def cancel_load(self) -> None:
        if self.load_worker is not None:
            self.load_worker.cancel()
            self.set_status("Cancelling after the current step…")

    @on(LoadProgressed)
    def _load_progressed(self, message: LoadProgressed) -> None:
        message.stop()
        self.query_one(ProgressBar).update(progress=int(message.fraction * 100))
        self.set_status(f"{message.step.capitalize()}…")

    def _load_finished(self) -> None:
        self.load_worker = None
        self.query_one("#model-cancel", Button).disabled = True
        self.query_one("#model-load", Button).disabled = False
        self.query_one(ProgressBar).display = False

    @on(ModelLoaded)
    def _model_loaded(self, message: ModelLoaded) -> None:
        # Not stopped: the pane takes the model to the playground.
        self._load_finished()
        report = message.loaded.report
        status = f"Loaded {message.loaded.info.name} as {report.class_name}: {report.status}."
        self.set_status(Text(status, style=self._colour("head-new" if report.head_all_new else "head-kept")))

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        # Not stopped: the pane tells the playground and shows the tab.
        from workbench.core.models.loading import Cancelled

        self._load_finished()
        error = message.error
        cancelled = isinstance(error, Cancelled)
        self.set_status(Text(str(error), style="bold" if cancelled else f"bold {self._colour('head-error')}"))


def default_head(info: CheckpointInfo) -> str:
    """The head the checkpoint was saved with (from `architectures`), else the base model."""
    architecture = info.architectures[0] if info.architectures else ""
    suffixes = {
        "ForSequenceClassification": "sequence-classification",
        "ForTokenClassification": "token-classification",
        "ForQuestionAnswering": "question-answering",
        "ForMultipleChoice": "multiple-choice",
        "ForMaskedLM": "masked-lm",
        "LMHeadModel": "causal-lm",
        "ForCausalLM": "causal-lm",
        "ForConditionalGeneration": "seq2seq-lm",
    }
    for suffix, key in suffixes.items():
        if architecture.endswith(suffix):
            return key
    return "base"


def _keys(keys: list[str], limit: int = 6) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" … (+{len(keys) - limit})" if len(keys) > limit else "")
