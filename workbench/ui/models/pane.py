"""Models pane: choose a checkpoint and a head, see what loads, run inference.

The core (`workbench.core.models`) does the work; this pane only arranges it. Reading a
checkpoint's config and weight headers is cheap and happens at once; anything that imports
transformers happens in workers: the Heads tab (heads_view.py) compares the heads and loads
the model; the pane scans the catalog, resolves hub ids, runs the playground and saves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import var
from textual.widgets import Button, Checkbox, Input, OptionList, Static, TabbedContent, TabPane

from workbench.core.errors import WorkbenchError
from workbench.core.models.catalog import CatalogEntry, embedded_entry, folder_entry
from workbench.core.models.heads import HEADS_BY_KEY
from workbench.core.models.inspect import CheckpointInfo, inspect_checkpoint
from workbench.core.models.labels import Labels
from workbench.ui.messages import ActiveModelChanged, DemoRequested
from workbench.ui.models.catalog import CatalogList, FolderSuggester
from workbench.ui.models.heads_view import HeadsView
from workbench.ui.models.playground import Playground
from workbench.ui.models.summary import CheckpointView
from workbench.ui.palette import PaletteCommand
from workbench.ui.themes import head_style


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
        Binding(
            "ctrl+d",
            "demo",
            "Demo",
            show=False,  # the footer is full: F1 and the palette ("demo: start") list it
            id="models.demo",
            tooltip="Serve a Gradio demo of this model (127.0.0.1; the ssh -L line is shown)",
        ),
    ]

    # -- messages posted by this pane's workers -------------------------------------
    @dataclass
    class CheckpointResolved(Message):
        entry: CatalogEntry | None
        error: WorkbenchError | None = None

    @dataclass
    class ModelSaved(Message):
        folder: Path | None
        error: WorkbenchError | None = None
        created: bool = False

    active_dataset: var[dict | None] = var(None)  # the app's open dataset, pushed down to the Heads tab

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.info: CheckpointInfo | None = None
        self.entry: CatalogEntry | None = None
        self.loaded = None  # workbench.core.models.loading.LoadedModel
        self._run_after_load = False

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
                yield CheckpointView()
            with TabPane("Heads", id="model-heads-tab"):
                yield HeadsView().data_bind(dataset=ModelsPane.active_dataset)
            with TabPane("Playground", id="model-playground-tab"):
                with VerticalScroll():
                    yield Static("", id="playground-model")
                    yield Playground(id="playground")

    @property
    def heads(self) -> HeadsView:
        return self.query_one(HeadsView)

    # The chosen head and labels live in the Heads tab; tests and the palette ask the pane.
    @property
    def head_key(self) -> str:
        return self.heads.head_key

    @property
    def labels(self) -> Labels | None:
        return self.heads.labels

    @property
    def reports(self) -> dict:
        return self.heads.reports

    @property
    def last_prediction(self):
        return self.query_one(Playground).last_prediction

    def on_mount(self) -> None:
        self.watch(self.app, "active_dataset", self._active_dataset_changed)
        entry = embedded_entry()
        self.query_one(CatalogList).show_entries([entry], entry.location)
        self._open_entry(entry)
        self.catalog.scan()

    def _active_dataset_changed(self, dataset: dict | None) -> None:
        self.active_dataset = dataset

    # -- the catalog ---------------------------------------------------------------
    @property
    def catalog(self) -> CatalogList:
        return self.query_one(CatalogList)

    @on(OptionList.OptionSelected, "#model-catalog")
    @on(OptionList.OptionHighlighted, "#model-catalog")
    def _catalog_selected(self, event: OptionList.OptionSelected | OptionList.OptionHighlighted) -> None:
        # The summary follows the highlight: reading a checkpoint costs only its config and header.
        entry = self.query_one(CatalogList).entry_at(event.option_index)
        if entry is not None and (self.entry is None or entry.location != self.entry.location):
            self._open_entry(entry)

    # -- opening a checkpoint ----------------------------------------------------------
    def open_model(self, path: str, example: str | None = None, pair: str | None = None) -> None:
        """Open a model folder (or a hub id, when online) in this pane; other panes call this. With an
        `example` (and `pair`), the Playground shows it, ready to run (the Errors view's jump)."""
        if example is not None:
            self.query_one(Playground).set_text(example, pair or "")
            self.query_one("#model-tabs", TabbedContent).active = "model-playground-tab"
        text = path.strip()
        folder = Path(text).expanduser()
        if text and folder.exists():
            self._open_folder(folder)
        else:
            self._show_error(None)
            self.heads.set_status(f"Looking up {text}…")
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
        self.heads.set_status("")
        if message.error is not None:
            self._show_error(message.error)
            return
        if Path(message.entry.location).exists():
            self._open_entry(message.entry)
            self.catalog.add_found(message.entry)

    def _open_folder(self, folder: Path) -> None:
        from workbench.core.embedded import embedded_model_path

        resolved = folder.resolve()
        if resolved == embedded_model_path().resolve():
            self._open_entry(embedded_entry())
            return
        known = self.catalog.known(folder)
        if known is None and not self.catalog.is_opened(folder):
            if self._open_entry(folder_entry(folder)):
                self.catalog.add_folder(folder)
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
        self.catalog.selected_location = entry.location
        self.query_one(CheckpointView).show(info, entry)
        self.heads.show_checkpoint(info, analyse=self.query_one(TabbedContent).active != "model-info-tab")
        return True

    def _show_error(self, error: WorkbenchError | None) -> None:
        self.query_one(CheckpointView).show_error(error)
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
        if event.pane.id != "model-info-tab":
            self.heads.analyse_if_needed()

    # -- heads and loading (the Heads tab does the work) -------------------------------
    def select_head(self, key: str) -> None:
        """Choose the head (as a click on its row does)."""
        self.heads.select_head(key)

    def apply_labels(self, text: str) -> bool:
        return self.heads.apply_labels(text)

    def action_labels_from_dataset(self) -> None:
        self.heads.labels_from_dataset()

    @on(HeadsView.HeadsAnalysed)
    def _heads_analysed(self, message: HeadsView.HeadsAnalysed) -> None:
        if message.info is self.info:
            self.query_one(CheckpointView).show_warnings(self.info)  # checking the architecture may add some

    @on(HeadsView.HeadChanged)
    def _head_changed(self, message: HeadsView.HeadChanged) -> None:
        self.query_one(Playground).configure(message.key)
        self._show_playground_model()

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

    def _loaded_matches(self) -> bool:
        if self.loaded is None or self.info is None:
            return False
        options = self.heads.options()
        current = self.loaded.options
        return (
            self.loaded.info.path == self.info.path
            and self.loaded.info.adapter == self.info.adapter  # two adapters over one base differ
            and current.head == options.head
            and current.labels == options.labels
            and current.ignore_mismatched_sizes == options.ignore_mismatched_sizes
        )

    @on(Button.Pressed, "#model-load")
    def action_load(self) -> None:
        if self.info is None:
            self.notify("Pick a checkpoint first.", severity="warning")
            return
        if not self.heads.load():
            self._run_after_load = False

    @on(HeadsView.ModelLoaded)
    def _model_loaded(self, message: HeadsView.ModelLoaded) -> None:
        self.loaded = message.loaded
        self._show_playground_model()
        self.action_use_model()
        if self._run_after_load:
            self._run_after_load = False
            self.action_run()

    @on(HeadsView.LoadFailed)
    def _load_failed(self, message: HeadsView.LoadFailed) -> None:
        from workbench.core.models.loading import Cancelled, LabelMismatchError

        self._run_after_load = False
        error = message.error
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
        self.heads.cancel_load()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "cancel_load":
            return self.heads.load_worker is not None
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
        playground.run(self.loaded, inputs)

    @on(Button.Pressed, "#play-code")
    def action_show_code(self) -> None:
        from workbench.core.models.codegen import code_for
        from workbench.ui.widgets.code_dialog import CodeDialog

        if self.info is None:
            return
        try:
            inputs = self.query_one(Playground).read_inputs()
        except WorkbenchError as error:
            self.query_one(Playground).set_status(error.message, error=True)
            return
        options = self.heads.options()
        code = code_for(
            str(self.info.path),
            options.head.key,
            options.head.auto_class,
            inputs,
            id2label=options.labels.id2label if options.labels else None,
            fresh_head=options.ignore_mismatched_sizes,
            trust_remote_code=options.trust_remote_code,
        )
        self.app.push_screen(CodeDialog(code, "Show code: what the pane just did, with transformers alone"))

    # -- active model, create, save ---------------------------------------------------------
    @on(Button.Pressed, "#model-use")
    def action_use_model(self) -> None:
        if self.info is None or self.entry is None:
            return
        path = "" if self.entry.source == "embedded" else str(self.info.path)
        self.post_message(ActiveModelChanged(self.info.name, path))

    def action_demo(self) -> None:
        if self.info is None or self.entry is None:
            self.notify("Open a model first", severity="warning")
            return
        self.post_message(DemoRequested("embedded" if self.entry.source == "embedded" else str(self.info.path)))

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
            self.heads.set_status(f"Creating a {choice['family']} {choice['preset']} model…")
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
            self.heads.set_status(
                Text(str(message.error), style=f"bold {head_style(self.app.current_theme.variables, 'head-error')}")
            )
            self.notify(message.error.message, title="Save failed", severity="error")
            return
        self.heads.set_status(f"Saved to {message.folder.name}/ (config, safetensors, tokenizer).")
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
        if self.heads.load_worker is not None:
            commands.append(PaletteCommand("model: cancel load", self.action_cancel_load, "Stop the running load"))
        return commands

    def _palette_focus_path(self) -> None:
        self.call_later(self.app.run_action, "show_pane('models')")
        self.call_later(self.action_focus_path)  # once the pane is shown

    def _show_tab(self, tab: str) -> None:
        self.call_later(self.app.run_action, "show_pane('models')")
        self.query_one(TabbedContent).active = tab
