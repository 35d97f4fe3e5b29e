"""Models pane: choose a checkpoint and a head, see what loads, run inference.

The core (`workbench.core.models`) does the work; this pane only arranges it. Reading a
checkpoint's config and weight headers is cheap and happens at once; anything that imports
transformers (comparing heads on the meta device, loading, running) happens in workers,
which post the past-tense messages nested below.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, DataTable, Input, OptionList, ProgressBar, Static, TabbedContent, TabPane
from textual.worker import Worker, get_current_worker

from workbench.core.errors import WorkbenchError
from workbench.core.models.catalog import CatalogEntry, embedded_entry, folder_entry
from workbench.core.models.heads import HEADS_BY_KEY, head_kind
from workbench.core.models.inspect import CheckpointInfo, inspect_checkpoint
from workbench.core.models.labels import Labels, format_labels, labels_from_dataset, parse_labels
from workbench.ui.messages import ActiveModelChanged
from workbench.ui.models.catalog import CatalogList, FolderSuggester
from workbench.ui.models.playground import Playground
from workbench.ui.models.summary import CheckpointSummary, HeadsTable, human_count, where_text
from workbench.ui.palette import PaletteCommand


class ModelsPane(Horizontal):
    DEFAULT_CSS = """
    ModelsPane #models-left { width: 34; }
    ModelsPane #catalog-buttons { height: auto; }
    ModelsPane #catalog-buttons Button { width: 1fr; min-width: 8; }
    ModelsPane #model-tabs { width: 1fr; }
    ModelsPane #model-warnings { color: $warning; padding: 0 1; height: auto; }
    ModelsPane .model-error { color: $error; padding: 0 1; height: auto; }
    ModelsPane #head-detail { padding: 0 1; height: auto; }
    ModelsPane #label-row, ModelsPane #option-row, ModelsPane #load-row { height: auto; }
    ModelsPane #model-labels { width: 1fr; }
    ModelsPane #load-row Button { margin-right: 1; }
    ModelsPane #load-progress { padding: 0 1; }
    ModelsPane #load-status { padding: 0 1; height: auto; color: $text-muted; }
    ModelsPane #playground-model { padding: 0 1; height: auto; }
    """

    BINDINGS = [
        Binding("ctrl+o", "focus_path", "Open", id="models.open", tooltip="Type a model folder or hub id"),
        Binding("ctrl+b", "browse", "Browse", id="models.browse", tooltip="Pick a checkpoint folder from a tree"),
        Binding("ctrl+l", "load", "Load", id="models.load", tooltip="Load the checkpoint with the selected head"),
        Binding("escape", "cancel_load", "Cancel load", id="models.cancel", tooltip="Cancel the running load"),
        Binding("ctrl+r", "run", "Run", id="models.run", tooltip="Run the playground on the loaded model"),
        Binding(
            "ctrl+g", "show_code", "Code", id="models.code", tooltip="Show the Python that reproduces the playground"
        ),
        Binding("ctrl+t", "use_model", "Use", id="models.use", tooltip="Make this checkpoint the active model"),
        Binding(
            "ctrl+n", "create_model", "New", id="models.create", tooltip="Create a model from a config (random weights)"
        ),
        Binding(
            "ctrl+s", "save_model", "Save", id="models.save", tooltip="save_pretrained the loaded model and tokenizer"
        ),
    ]

    # -- messages posted by this pane's workers -------------------------------------
    class CatalogScanned(Message):
        def __init__(self, entries: list[CatalogEntry], problem: str | None) -> None:
            super().__init__()
            self.entries = entries
            self.problem = problem

    class CheckpointResolved(Message):
        def __init__(self, entry: CatalogEntry | None, error: WorkbenchError | None = None) -> None:
            super().__init__()
            self.entry = entry
            self.error = error

    class HeadsAnalysed(Message):
        def __init__(
            self, info: CheckpointInfo, reports: list, labels: Labels | None, error: str | None = None
        ) -> None:
            super().__init__()
            self.info = info
            self.reports = reports
            self.labels = labels
            self.error = error

    class LoadProgressed(Message):
        def __init__(self, step: str, fraction: float) -> None:
            super().__init__()
            self.step = step
            self.fraction = fraction

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ModelsPane.LoadProgressed)

    class ModelLoaded(Message):
        def __init__(self, loaded) -> None:
            super().__init__()
            self.loaded = loaded

    class LoadFailed(Message):
        def __init__(self, error: WorkbenchError) -> None:
            super().__init__()
            self.error = error

    class PredictionMade(Message):
        def __init__(self, prediction, inputs, error: WorkbenchError | None = None) -> None:
            super().__init__()
            self.prediction = prediction
            self.inputs = inputs
            self.error = error

    class ModelSaved(Message):
        def __init__(self, folder: Path | None, error: WorkbenchError | None = None, created: bool = False) -> None:
            super().__init__()
            self.folder = folder
            self.error = error
            self.created = created

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.info: CheckpointInfo | None = None
        self.entry: CatalogEntry | None = None
        self.head_key = "base"
        self.labels: Labels | None = None  # None: the checkpoint's own labels
        self.reports: dict[str, object] = {}
        self.loaded = None  # workbench.core.models.loading.LoadedModel
        self.last_prediction = None
        self.opened_folders: list[Path] = []
        self.scanned: list[CatalogEntry] = []
        self.opt_ins: dict[str, dict[str, bool]] = {}  # checkpoint path -> {"trust": .., "pickle": ..}
        self._load_worker: Worker | None = None
        self._run_after_load = False
        self._head_chosen = False  # the user picked a head for this checkpoint

    # -- layout -----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="models-left"):
            yield Input(placeholder="Path or hub id", id="model-path", suggester=FolderSuggester())
            yield CatalogList(id="model-catalog")
            with Horizontal(id="catalog-buttons"):
                yield Button("Browse… ^b", id="model-browse")
                yield Button("New… ^n", id="model-new")
        with TabbedContent(id="model-tabs", initial="model-info-tab"):
            with TabPane("Checkpoint", id="model-info-tab"):
                with VerticalScroll():
                    yield Static("", id="model-error", classes="model-error")
                    yield CheckpointSummary(id="model-summary")
                    yield Static("", id="model-warnings")
            with TabPane("Heads", id="model-heads-tab"):
                with VerticalScroll():
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
                            "Allow pickle",
                            id="opt-pickle",
                            tooltip="Unpickle pytorch_model.bin weights (this model only)",
                        )
                    with Horizontal(id="load-row"):
                        yield Button("Load  ^l", id="model-load", variant="primary")
                        yield Button("Cancel  esc", id="model-cancel", disabled=True)
                        yield Button("Use as active  ^t", id="model-use")
                        yield Button("Save…  ^s", id="model-save")
                    yield ProgressBar(total=100, show_eta=False, id="load-progress")
                    yield Static("", id="load-status")
                    yield Static("Comparing each head with the checkpoint…", id="head-detail")
            with TabPane("Playground", id="model-playground-tab"):
                with VerticalScroll():
                    yield Static("", id="playground-model")
                    yield Playground(id="playground")

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False
        entry = embedded_entry()
        self.query_one(CatalogList).show_entries([entry], entry.location)
        self._open_entry(entry)
        self.scan_catalog()

    # -- the catalog ---------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="models-catalog")
    def scan_catalog(self) -> None:
        from workbench.core.models.catalog import cached_models, run_models
        from workbench.core.settings import load_settings

        entries, problems = [], []
        try:
            entries += run_models(load_settings().runs_path)
        except OSError as error:
            problems.append(f"Runs folder: {error}")
        try:
            entries += cached_models()
        except WorkbenchError as error:
            problems.append(str(error))
        self.post_message(self.CatalogScanned(entries, "; ".join(problems) or None))

    @on(CatalogScanned)
    def _catalog_scanned(self, message: CatalogScanned) -> None:
        self.scanned = message.entries
        self._refresh_catalog()
        if message.problem:
            self.notify(message.problem, severity="warning")

    def _refresh_catalog(self) -> None:
        entries = [embedded_entry(), *(folder_entry(folder) for folder in self.opened_folders), *self.scanned]
        self.query_one(CatalogList).show_entries(entries, self.entry.location if self.entry else None)

    @on(OptionList.OptionSelected, "#model-catalog")
    @on(OptionList.OptionHighlighted, "#model-catalog")
    def _catalog_selected(self, event: OptionList.OptionSelected | OptionList.OptionHighlighted) -> None:
        # The summary follows the highlight: reading a checkpoint costs only its config and header.
        entry = self.query_one(CatalogList).entry_at(event.option_index)
        if entry is not None and (self.entry is None or entry.location != self.entry.location):
            self._open_entry(entry)

    # -- opening a checkpoint ----------------------------------------------------------
    def open_model(self, path: str) -> None:
        """Open a model folder (or a hub id, when online) in this pane; other panes call this."""
        text = path.strip()
        folder = Path(text).expanduser()
        if text and folder.exists():
            self._open_folder(folder)
        else:
            self._show_error(None)
            self.query_one("#load-status", Static).update(f"Looking up {text}…")
            self.resolve_model(text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="models-resolve")
    def resolve_model(self, text: str) -> None:
        from workbench.core.models.catalog import resolve

        try:
            folder, name = resolve(text)
        except WorkbenchError as error:
            self.post_message(self.CheckpointResolved(None, error))
            return
        self.post_message(self.CheckpointResolved(CatalogEntry(name, "hub", str(folder), f"Hub · {text}")))

    @on(CheckpointResolved)
    def _resolved(self, message: CheckpointResolved) -> None:
        self.query_one("#load-status", Static).update("")
        if message.error is not None:
            self._show_error(message.error)
            return
        if Path(message.entry.location).exists():
            self.scanned = [entry for entry in self.scanned if entry.location != message.entry.location] + [
                message.entry
            ]
            self._open_entry(message.entry)
            self._refresh_catalog()

    def _open_folder(self, folder: Path) -> None:
        from workbench.core.embedded import embedded_model_path

        resolved = folder.resolve()
        if resolved == embedded_model_path().resolve():
            self._open_entry(embedded_entry())
            return
        known = next((entry for entry in self.scanned if Path(entry.location).resolve() == resolved), None)
        if known is None and resolved not in [item.resolve() for item in self.opened_folders]:
            if self._open_entry(folder_entry(folder)):
                self.opened_folders.append(folder)
                self._refresh_catalog()
            return
        self._open_entry(known or folder_entry(folder))

    def _open_entry(self, entry: CatalogEntry) -> bool:
        try:
            info = inspect_checkpoint(entry.location, name=entry.name, check=False)
        except WorkbenchError as error:
            self._show_error(error)
            return False
        self._show_error(None)
        self.entry, self.info = entry, info
        self.reports = {}
        self.labels = None
        opt_ins = self.opt_ins.get(str(info.path), {})
        self.query_one("#opt-trust", Checkbox).value = opt_ins.get("trust", False)
        self.query_one("#opt-pickle", Checkbox).value = opt_ins.get("pickle", False)
        self.query_one("#opt-fresh-head", Checkbox).value = False
        self.query_one("#model-labels", Input).value = format_labels(info.id2label) if info.id2label else ""
        self.query_one(CheckpointSummary).show(info, where_text(entry.location, entry.detail, entry.source))
        self._show_warnings()
        self.query_one(HeadsTable).clear()
        self.query_one("#head-detail", Static).update("Comparing each head with the checkpoint…")
        self.head_key = _default_head(info)
        self._head_chosen = False
        self._sync_head_widgets()
        if self.query_one(TabbedContent).active != "model-info-tab":
            self.analyse_heads(info, None)
        return True

    def _show_warnings(self) -> None:
        warnings = self.info.warnings if self.info else []
        self.query_one("#model-warnings", Static).update("\n".join(f"⚠ {warning}" for warning in warnings))

    def _show_error(self, error: WorkbenchError | None) -> None:
        self.query_one("#model-error", Static).update(Text(str(error), style="bold") if error else "")
        if error is not None:
            self.notify(error.message, title="Models", severity="error", timeout=8)

    @on(Input.Submitted, "#model-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self._show_error(WorkbenchError("Type a folder path or a hub id first."))
            return
        self.open_model(event.value)

    @on(TabbedContent.TabActivated, "#model-tabs")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id != "model-info-tab" and self.info is not None and not self.reports:
            self.analyse_heads(self.info, self.labels)

    # -- heads ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="models-heads")
    def analyse_heads(self, info: CheckpointInfo, labels: Labels | None) -> None:
        from workbench.core.models.loading import analyse_heads

        options = self.opt_ins.get(str(info.path), {})
        if info.config.get("auto_map") and not options.get("trust"):
            from workbench.core.models.inspect import check_architecture

            check_architecture(info)
            if info.needs_remote_code:
                self.post_message(
                    self.HeadsAnalysed(
                        info,
                        [],
                        labels,
                        "Heads need the checkpoint's own code: tick 'Trust remote code' to compare them.",
                    )
                )
                return
        try:
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
            self.post_message(
                self.HeadsAnalysed(info, [], labels, f"Comparing heads failed: {type(error).__name__}: {error}")
            )
            return
        self.post_message(self.HeadsAnalysed(info, reports, labels))

    @on(HeadsAnalysed)
    def _heads_analysed(self, message: HeadsAnalysed) -> None:
        if message.info is not self.info:
            return  # an answer about a checkpoint no longer shown
        self._show_warnings()
        if message.error or not message.reports:
            self.query_one("#head-detail", Static).update(
                Text(message.error or "transformers implements no heads for this architecture.", style="bold red")
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
        table = self.query_one(HeadsTable)
        if key in self.reports:
            table.move_cursor(row=list(self.reports).index(key))
        self._sync_head_widgets()

    def _sync_head_widgets(self) -> None:
        head = HEADS_BY_KEY[self.head_key]
        for widget_id in ("#label-row", "#opt-fresh-head"):
            self.query_one(widget_id).display = head.takes_labels
        self.query_one("#opt-pickle").display = bool(self.info and self.info.weights.format == "pickle")
        self.query_one("#opt-trust").display = bool(self.info and self.info.config.get("auto_map"))
        self.query_one(Playground).configure(self.head_key)
        self._show_head_detail()
        self._show_playground_model()

    def _show_head_detail(self) -> None:
        report = self.reports.get(self.head_key)
        detail = self.query_one("#head-detail", Static)
        if report is None:
            return
        text = Text()
        text.append(f"{report.head.title}", style="bold")
        text.append(
            f" · {report.class_name} · {human_count(report.total_params)} parameters"
            f" ({human_count(report.base_params)} base + {human_count(report.head_params)} head)\n"
        )
        if report.head_all_new:
            text.append(
                "New head: every weight of it is random, so its output is noise until trained.\n", style="bold yellow"
            )
        text.append(f"From the checkpoint: {len(report.from_checkpoint)} tensors\n", style="green")
        if report.new:
            text.append(f"New (random): {_keys(report.new)}\n", style="yellow")
        if report.mismatched:
            text.append(
                "Size differs, replaced by a fresh head: "
                + ", ".join(f"{key} {list(old)}→{list(new)}" for key, old, new in report.mismatched)
                + "\n",
                style="yellow",
            )
            text.append("Tick 'Fresh head' to load with the new labels (ignore_mismatched_sizes).\n", style="bold")
        if report.unused:
            text.append(f"Unused from the checkpoint: {_keys(report.unused)}\n", style="dim")
        detail.update(text)

    def _show_playground_model(self) -> None:
        label = self.query_one("#playground-model", Static)
        head = HEADS_BY_KEY[self.head_key]
        if self._loaded_matches():
            label.update(
                Text.assemble(("Loaded: ", "bold"), f"{self.loaded.info.name} · {self.loaded.report.class_name}")
            )
        elif self.info is not None:
            label.update(
                Text.assemble(
                    ("Not loaded yet: ", "bold"), f"{self.info.name} · {head.title}. Run (^r) loads it first."
                )
            )

    # -- labels ------------------------------------------------------------------------
    @on(Input.Submitted, "#model-labels")
    def _labels_submitted(self, event: Input.Submitted) -> None:
        self.apply_labels(event.value)

    def apply_labels(self, text: str) -> bool:
        try:
            labels = parse_labels(text) if text.strip() else None
        except WorkbenchError as error:
            self.query_one("#head-detail", Static).update(Text(str(error), style="bold red"))
            self.notify(error.message, severity="error")
            return False
        if self.info is not None and labels is not None and labels.id2label == self.info.id2label:
            labels = None
        self.labels = labels
        if self.info is not None:
            self.analyse_heads(self.info, labels)
        return True

    @on(Button.Pressed, "#labels-from-dataset")
    def action_labels_from_dataset(self) -> None:
        try:
            labels = labels_from_dataset(getattr(self.app, "active_dataset", None))
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
        self.analyse_heads(self.info, self.labels)

    # -- loading -----------------------------------------------------------------------
    def _options(self):
        from workbench.core.models.loading import LoadOptions

        opt_ins = self.opt_ins.get(str(self.info.path), {})
        head = head_kind(self.head_key)
        return LoadOptions(
            head=head,
            labels=self.labels if head.takes_labels else None,
            trust_remote_code=opt_ins.get("trust", False),
            allow_pickle=opt_ins.get("pickle", False),
            ignore_mismatched_sizes=self.query_one("#opt-fresh-head", Checkbox).value,
        )

    def _loaded_matches(self) -> bool:
        if self.loaded is None or self.info is None:
            return False
        options = self._options()
        current = self.loaded.options
        return (
            self.loaded.info.path == self.info.path
            and current.head == options.head
            and current.labels == options.labels
            and current.ignore_mismatched_sizes == options.ignore_mismatched_sizes
        )

    @on(Button.Pressed, "#model-load")
    def action_load(self) -> None:
        if self.info is None:
            self.notify("Pick a checkpoint first.", severity="warning")
            return
        label_text = self.query_one("#model-labels", Input).value
        if HEADS_BY_KEY[self.head_key].takes_labels and label_text.strip() != format_labels(
            self.labels.id2label if self.labels else self.info.id2label
        ):
            if not self.apply_labels(label_text):
                return
        self.query_one(ProgressBar).display = True
        self.query_one(ProgressBar).update(progress=0)
        self.query_one("#model-cancel", Button).disabled = False
        self.query_one("#model-load", Button).disabled = True
        self.query_one("#load-status", Static).update(
            f"Loading {self.info.name} with the {HEADS_BY_KEY[self.head_key].title.lower()} head…"
        )
        self._load_worker = self.load_model(self.info, self._options())

    @work(thread=True, exclusive=True, exit_on_error=False, group="models-load")
    def load_model(self, info: CheckpointInfo, options) -> None:
        from workbench.core.models.loading import load_model

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
            from workbench.core.models.loading import Cancelled

            self.post_message(self.LoadFailed(Cancelled(f"Loading {info.name} was cancelled.")))
            return
        self.post_message(self.ModelLoaded(loaded))

    @on(LoadProgressed)
    def _load_progressed(self, message: LoadProgressed) -> None:
        self.query_one(ProgressBar).update(progress=int(message.fraction * 100))
        self.query_one("#load-status", Static).update(f"{message.step.capitalize()}…")

    def _load_finished(self) -> None:
        self._load_worker = None
        self.query_one("#model-cancel", Button).disabled = True
        self.query_one("#model-load", Button).disabled = False
        self.query_one(ProgressBar).display = False

    @on(ModelLoaded)
    def _model_loaded(self, message: ModelLoaded) -> None:
        self._load_finished()
        self.loaded = message.loaded
        report = self.loaded.report
        status = f"Loaded {self.loaded.info.name} as {report.class_name}: {report.status}."
        self.query_one("#load-status", Static).update(Text(status, style="yellow" if report.head_all_new else "green"))
        self._show_playground_model()
        self.action_use_model()
        if self._run_after_load:
            self._run_after_load = False
            self.action_run()

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        from workbench.core.models.loading import Cancelled, LabelMismatchError

        self._load_finished()
        self._run_after_load = False
        error = message.error
        self.query_one("#load-status", Static).update(
            Text(str(error), style="bold" if isinstance(error, Cancelled) else "bold red")
        )
        if isinstance(error, Cancelled):
            self.notify(error.message, severity="information")
            return
        self.query_one(Playground).set_status(error.message, error=True)
        self.notify(error.message, title="Load failed", severity="error", timeout=10)
        if isinstance(error, LabelMismatchError):
            self.query_one(TabbedContent).active = "model-heads-tab"
            self.query_one("#opt-fresh-head", Checkbox).focus()

    @on(Button.Pressed, "#model-cancel")
    def action_cancel_load(self) -> None:
        if self._load_worker is not None:
            self._load_worker.cancel()
            self.query_one("#load-status", Static).update("Cancelling after the current step…")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "cancel_load":
            return self._load_worker is not None
        if action == "save_model":
            return True if self.loaded is not None else None
        return True

    # -- the playground ------------------------------------------------------------------
    @on(Button.Pressed, "#play-run")
    @on(
        Input.Submitted,
        "#play-text, #play-second, #play-top-k, #play-max-new, #play-temperature, #play-top-p, #play-seed",
    )
    def action_run(self) -> None:
        playground = self.query_one(Playground)
        try:
            inputs = playground.read_inputs()
            from workbench.core.models.inference import validate

            validate(self.head_key, inputs)
        except WorkbenchError as error:
            playground.set_status(error.message, error=True)
            return
        if not self._loaded_matches():
            self._run_after_load = True
            playground.set_status("Loading the model first…")
            self.action_load()
            return
        playground.set_status("Running…")
        self.run_prediction(self.loaded, inputs)

    @work(thread=True, exclusive=True, exit_on_error=False, group="models-predict")
    def run_prediction(self, loaded, inputs) -> None:
        from workbench.core.models.inference import predict

        try:
            prediction = predict(loaded, inputs)
        except WorkbenchError as error:
            self.post_message(self.PredictionMade(None, inputs, error))
            return
        except Exception as error:  # noqa: BLE001 - shown to the user
            self.post_message(self.PredictionMade(None, inputs, WorkbenchError(f"{type(error).__name__}: {error}")))
            return
        self.post_message(self.PredictionMade(prediction, inputs))

    @on(PredictionMade)
    def _prediction_made(self, message: PredictionMade) -> None:
        playground = self.query_one(Playground)
        if message.error is not None:
            playground.set_status(message.error.message, error=True)
            return
        self.last_prediction = (message.prediction, message.inputs)
        playground.set_status("")
        playground.show_prediction(message.prediction, message.inputs.text, self.loaded.report.head_all_new)

    @on(Button.Pressed, "#play-code")
    def action_show_code(self) -> None:
        from workbench.core.models.codegen import code_for
        from workbench.ui.models.dialogs import ShowCodeScreen

        if self.info is None:
            return
        try:
            inputs = self.query_one(Playground).read_inputs()
        except WorkbenchError as error:
            self.query_one(Playground).set_status(error.message, error=True)
            return
        options = self._options()
        code = code_for(
            str(self.info.path),
            options.head.key,
            options.head.auto_class,
            inputs,
            id2label=options.labels.id2label if options.labels else None,
            fresh_head=options.ignore_mismatched_sizes,
            trust_remote_code=options.trust_remote_code,
        )
        self.app.push_screen(ShowCodeScreen(code))

    # -- active model, create, save ---------------------------------------------------------
    @on(Button.Pressed, "#model-use")
    def action_use_model(self) -> None:
        if self.info is None or self.entry is None:
            return
        path = "" if self.entry.source == "embedded" else str(self.info.path)
        self.post_message(ActiveModelChanged(self.info.name, path))

    def action_focus_path(self) -> None:
        self.query_one("#model-path", Input).focus()

    @on(Button.Pressed, "#model-browse")
    def action_browse(self) -> None:
        from workbench.ui.models.dialogs import FolderPickerScreen

        self.app.push_screen(FolderPickerScreen("."), lambda folder: folder and self.open_model(folder))

    @on(Button.Pressed, "#model-new")
    def action_create_model(self) -> None:
        from workbench.ui.models.dialogs import CreateModelScreen

        self.app.push_screen(CreateModelScreen(), self._create_chosen)

    def _create_chosen(self, choice: dict | None) -> None:
        if choice:
            self.query_one("#load-status", Static).update(f"Creating a {choice['family']} {choice['preset']} model…")
            self.create_and_save(choice)

    @work(thread=True, exclusive=True, exit_on_error=False, group="models-save")
    def create_and_save(self, choice: dict) -> None:
        from workbench.core.models.create import create_model, parse_overrides, save_model
        from workbench.core.tokenizer.loader import load_hf_tokenizer

        try:
            tokenizer = load_hf_tokenizer("embedded")
            model = create_model(
                choice["family"], choice["preset"], choice["head"], parse_overrides(choice["overrides"]), tokenizer
            )
            folder = save_model(model, tokenizer, choice["folder"])
        except WorkbenchError as error:
            self.post_message(self.ModelSaved(None, error, created=True))
            return
        self.post_message(self.ModelSaved(folder, created=True))

    @on(Button.Pressed, "#model-save")
    def action_save_model(self) -> None:
        from workbench.ui.models.dialogs import SaveModelScreen

        if self.loaded is None:
            self.notify("Load a model first (^l); then save it with its tokenizer.", severity="warning")
            return
        self.app.push_screen(SaveModelScreen(self.loaded.info.name), self._save_chosen)

    def _save_chosen(self, folder: str | None) -> None:
        if folder:
            self.save_loaded(self.loaded, folder)

    @work(thread=True, exclusive=True, exit_on_error=False, group="models-save")
    def save_loaded(self, loaded, folder: str) -> None:
        from workbench.core.models.create import save_model

        try:
            saved = save_model(loaded.model, loaded.tokenizer, folder)
        except WorkbenchError as error:
            self.post_message(self.ModelSaved(None, error))
            return
        self.post_message(self.ModelSaved(saved))

    @on(ModelSaved)
    def _model_saved(self, message: ModelSaved) -> None:
        if message.error is not None:
            self.query_one("#load-status", Static).update(Text(str(message.error), style="bold red"))
            self.notify(message.error.message, title="Save failed", severity="error")
            return
        self.query_one("#load-status", Static).update(
            f"Saved to {message.folder.name}/ (config, safetensors, tokenizer)."
        )
        self.notify(f"Saved {message.folder.name} with its tokenizer.")
        if message.created:
            self._open_folder(message.folder)

    # -- palette ------------------------------------------------------------------------
    def palette_commands(self) -> list[PaletteCommand]:
        def show(tab: str):
            return lambda: self._show_tab(tab)

        commands = [
            PaletteCommand(
                "model: open folder or hub id", self._palette_focus_path, "Type a path (→ completes) or a hub id"
            ),
            PaletteCommand("model: browse for a folder", self.action_browse, "Pick a checkpoint folder from a tree"),
            PaletteCommand(
                "model: checkpoint summary", show("model-info-tab"), "Architecture, shape, dtype, weights, tokenizer"
            ),
            PaletteCommand("model: heads", show("model-heads-tab"), "Heads, parameter counts, new and unused weights"),
            PaletteCommand("model: playground", show("model-playground-tab"), "Run the selected head on your text"),
            PaletteCommand("model: load", self.action_load, "Load the checkpoint with the selected head"),
            PaletteCommand("model: run", self.action_run, "Run the playground"),
            PaletteCommand("model: show code", self.action_show_code, "The Python that reproduces the playground"),
            PaletteCommand(
                "model: use as active model", self.action_use_model, "The header and the Tokenizer pane follow it"
            ),
            PaletteCommand(
                "model: labels from dataset", self.action_labels_from_dataset, "Use the open dataset's label names"
            ),
            PaletteCommand(
                "model: create from config", self.action_create_model, "BERT, GPT-2 or T5 with random weights"
            ),
        ]
        if self.loaded is not None:
            commands.append(
                PaletteCommand("model: save", self.action_save_model, "save_pretrained the model and its tokenizer")
            )
        if self._load_worker is not None:
            commands.append(PaletteCommand("model: cancel load", self.action_cancel_load, "Stop the running load"))
        return commands

    def _palette_focus_path(self) -> None:
        self.app.action_show_pane("models")
        self.action_focus_path()

    def _show_tab(self, tab: str) -> None:
        self.app.action_show_pane("models")
        self.query_one(TabbedContent).active = tab


def _default_head(info: CheckpointInfo) -> str:
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
