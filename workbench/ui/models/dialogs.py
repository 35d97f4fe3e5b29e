"""Dialogs of the Models pane: create a model from a config, save a model (Show code: ui.widgets.code_dialog)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from workbench.core.models.create import DEFAULT_HEAD, FAMILIES
from workbench.ui.widgets.code_dialog import CodeDialog as ShowCodeScreen  # noqa: F401 - the shared Show code dialog

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 90%; max-width: 110; height: auto; max-height: 90%;
    border: thick $primary; background: $surface; padding: 1 2; }}
{name} .dialog-title {{ text-style: bold; margin-bottom: 1; }}
{name} .dialog-buttons {{ height: auto; margin-top: 1; }}
{name} .dialog-buttons Button {{ margin-right: 1; }}
{name} .dialog-error {{ color: $error; height: auto; }}
"""


class CreateModelScreen(ModalScreen[dict | None]):
    """Family, size preset, config edits, head and the folder to save into."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="CreateModelScreen")
        + "CreateModelScreen .dialog-hint { color: $text-muted; height: auto; }"
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="models.create.cancel", tooltip="Close without creating")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                "Create a model from a config (random weights, tokenizer of the embedded model)", classes="dialog-title"
            )
            yield Label("Family")
            yield Select([(family, family) for family in FAMILIES], value="bert", allow_blank=False, id="create-family")
            yield Label("Size preset")
            yield Select(self._presets("bert"), value="tiny", allow_blank=False, id="create-preset")
            yield Static(self._preset_text("bert", "tiny"), id="create-preset-fields", classes="dialog-hint")
            yield Label("Config edits (field=value, comma separated)")
            yield Input(placeholder="e.g. num_hidden_layers=2, hidden_size=64", id="create-overrides")
            yield Label("Save into")
            yield Input(placeholder="Folder, e.g. ./models/my-bert", id="create-folder")
            yield Static("", classes="dialog-error", id="create-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create and save", id="create-ok", variant="primary")
                yield Button("Cancel", id="create-cancel")

    @staticmethod
    def _presets(family: str) -> list[tuple[str, str]]:
        return [(preset, preset) for preset in FAMILIES[family][1]]

    @staticmethod
    def _preset_text(family: str, preset: str) -> str:
        from workbench.core.models.create import preset_fields

        fields = preset_fields(family, preset)
        return f"{FAMILIES[family][0]}: " + ", ".join(f"{key}={value}" for key, value in fields.items())

    @on(Select.Changed, "#create-family")
    def _family_changed(self, event: Select.Changed) -> None:
        presets = self.query_one("#create-preset", Select)
        presets.set_options(self._presets(str(event.value)))
        presets.value = "tiny"

    @on(Select.Changed, "#create-preset")
    def _preset_changed(self, event: Select.Changed) -> None:
        family = str(self.query_one("#create-family", Select).value)
        if event.value in FAMILIES[family][1]:
            self.query_one("#create-preset-fields", Static).update(self._preset_text(family, str(event.value)))

    @on(Button.Pressed, "#create-ok")
    @on(Input.Submitted, "#create-folder")
    def _create(self) -> None:
        folder = self.query_one("#create-folder", Input).value.strip()
        if not folder:
            self.query_one("#create-error", Static).update("Type the folder to save the new model into.")
            return
        family = str(self.query_one("#create-family", Select).value)
        self.dismiss(
            {
                "family": family,
                "preset": str(self.query_one("#create-preset", Select).value),
                "overrides": self.query_one("#create-overrides", Input).value,
                "head": DEFAULT_HEAD[family],
                "folder": folder,
            }
        )

    @on(Button.Pressed, "#create-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class SaveModelScreen(ModalScreen[str | None]):
    """Ask for the folder to save_pretrained the loaded model and its tokenizer into."""

    DEFAULT_CSS = DIALOG_CSS.format(name="SaveModelScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="models.save.cancel", tooltip="Close without saving")]

    def __init__(self, model_name: str) -> None:
        super().__init__()
        self.model_name = model_name

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                f"Save {self.model_name} with its tokenizer (save_pretrained, safetensors)", classes="dialog-title"
            )
            yield Input(placeholder="Folder, e.g. ./models/my-classifier", id="save-folder")
            yield Static("", classes="dialog-error", id="save-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="save-ok", variant="primary")
                yield Button("Cancel", id="save-cancel")

    @on(Button.Pressed, "#save-ok")
    @on(Input.Submitted, "#save-folder")
    def _save(self) -> None:
        folder = self.query_one("#save-folder", Input).value.strip()
        if not folder:
            self.query_one("#save-error", Static).update("Type a folder name.")
            return
        self.dismiss(folder)

    @on(Button.Pressed, "#save-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class FolderPickerScreen(ModalScreen[str | None]):
    """Browse folders; a folder with a config.json is a checkpoint and opens on Enter."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="FolderPickerScreen")
        + """
    FolderPickerScreen DirectoryTree { height: 20; }
    FolderPickerScreen .dialog-hint { color: $text-muted; height: auto; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="models.browse.cancel", tooltip="Close without opening")]

    def __init__(self, root: str = ".") -> None:
        super().__init__()
        self.root = root

    def compose(self) -> ComposeResult:
        from textual.widgets import DirectoryTree

        class FolderTree(DirectoryTree):
            def filter_paths(self, paths):
                return [path for path in paths if path.is_dir() and not path.name.startswith(".")]

        with Vertical():
            yield Label("Open a checkpoint folder", classes="dialog-title")
            yield Static("Enter on a folder with config.json opens it; other folders expand.", classes="dialog-hint")
            yield FolderTree(self.root, id="folder-tree")
            yield Static("", classes="dialog-error", id="browse-error")

    def on_directory_tree_directory_selected(self, event) -> None:
        if (event.path / "config.json").is_file():
            self.dismiss(str(event.path))
        else:
            self.query_one("#browse-error", Static).update(
                f"{event.path.name}/ has no config.json; pick a folder inside it."
            )

    def action_cancel(self) -> None:
        self.dismiss(None)
