"""Dialogs of the Datasets pane: open (with editable splits), row details, jump to row."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

DETAIL_CHARS = 50_000  # a megabyte cell is cut: wrapping it all would stall the screen

DIALOG_CSS = """
DatasetsOpenDialog, RowDetailDialog, JumpDialog { align: center middle; }
.datasets-dialog {
    width: 90%; max-width: 110; height: auto; max-height: 90%;
    border: round $accent; background: $surface; padding: 1 2;
}
.datasets-dialog .dialog-title { text-style: bold; margin-bottom: 1; }
.datasets-dialog .dialog-hint { color: $text-muted; }
.datasets-dialog .dialog-buttons { height: auto; align-horizontal: right; margin-top: 1; }
.datasets-dialog .dialog-buttons Button { margin-left: 1; }
.datasets-split-row { height: auto; }
.datasets-split-row Label { width: 1fr; padding: 1 1 0 0; }
.datasets-split-row Input { width: 24; }
#datasets-cache-list { height: auto; max-height: 10; }
#datasets-open-header { width: auto; }
.datasets-split-row #datasets-open-names { width: 1fr; }
#datasets-split-files { height: auto; max-height: 14; }
"""


@dataclass
class OpenRequest:
    """What the user asked to open: a path or Hub id, and optionally split files by hand."""

    source: str
    splits: dict[str, list[str]] | None = None
    config: str | None = None
    split: str | None = None
    extra: dict = field(default_factory=dict)
    header: bool = True  # False: CSV/TSV whose first line is data (columns column_1 … column_N)
    names: list[str] | None = None  # with header=False: the column names the user typed


class DatasetsOpenDialog(ModalScreen[OpenRequest | None]):
    """Type a path; files in a folder are listed with the split guessed from each name (editable)."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="datasets.open.cancel", tooltip="Close without opening")]

    def __init__(self, initial: str = "", cache_entries: list | None = None, *, header: bool = True) -> None:
        super().__init__()
        self.initial = initial
        self.header = header
        self.cache_entries = cache_entries or []
        self.files: list[Path] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="datasets-dialog"):
            yield Static("Open a dataset", classes="dialog-title")
            yield Input(
                self.initial,
                placeholder="file, folder, save_to_disk folder, or a Hub id (online)",
                id="datasets-open-path",
            )
            yield Static(
                "CSV, TSV, JSON, JSON Lines, Parquet, Arrow, text; a folder of split files. Enter opens.",
                classes="dialog-hint",
            )
            with Horizontal(classes="datasets-split-row"):
                yield Checkbox("first line is a header (CSV, TSV)", self.header, id="datasets-open-header")
                yield Input(placeholder="else column names: a, b, c (optional)", id="datasets-open-names")
            with Horizontal(classes="datasets-split-row"):
                yield Label("Hub config / split (optional)")
                yield Input(placeholder="config", id="datasets-open-config")
                yield Input(placeholder="split", id="datasets-open-split")
            yield VerticalScroll(id="datasets-split-files")
            if self.cache_entries:
                yield Static("In the local datasets cache:", classes="dialog-hint")
                yield OptionList(
                    *[
                        Option(f"{entry.name}  [{', '.join(entry.splits)}]", id=str(index))
                        for index, entry in enumerate(self.cache_entries)
                    ],
                    id="datasets-cache-list",
                )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="datasets-open-cancel")
                yield Button("Open", variant="primary", id="datasets-open-ok")

    def on_mount(self) -> None:
        self.query_one("#datasets-open-path", Input).focus()
        if self.initial:
            self._list_files(self.initial)

    @on(Input.Changed, "#datasets-open-path")
    def _path_changed(self, event: Input.Changed) -> None:
        self._list_files(event.value)

    def _list_files(self, text: str) -> None:
        from workbench.core.data.files import (
            EXTENSIONS,
            data_files_in,
            guess_splits,
            is_builder_cache,
            is_saved_dataset,
        )

        path = Path(text.strip()).expanduser() if text.strip() else None
        files: list[Path] = []
        try:
            if path is not None and path.is_dir() and not is_saved_dataset(path) and not is_builder_cache(path):
                files = data_files_in(path)
            elif path is not None and path.is_file() and path.suffix.lower() in EXTENSIONS:
                files = [path]
        except OSError:
            files = []
        if files == self.files:
            return
        self.files = files
        box = self.query_one("#datasets-split-files", VerticalScroll)
        box.remove_children()
        if not files:
            return
        split_of = {file: name for name, paths in guess_splits(files).items() for file in paths}
        rows = []
        for index, file in enumerate(files):
            rows.append(
                Horizontal(
                    Label(file.name),
                    Input(split_of.get(file, "train"), placeholder="split (empty: skip)", id=f"datasets-split-{index}"),
                    classes="datasets-split-row",
                )
            )
        box.mount(
            Static("Files and their splits (edit a split name; empty skips the file):", classes="dialog-hint"), *rows
        )

    def _request(self) -> OpenRequest | None:
        source = self.query_one("#datasets-open-path", Input).value.strip()
        if not source:
            self.notify("Type a path first.", severity="warning")
            return None
        config = self.query_one("#datasets-open-config", Input).value.strip() or None
        split = self.query_one("#datasets-open-split", Input).value.strip() or None
        splits = None
        if self.files:
            splits = {}
            for index, file in enumerate(self.files):
                name = self.query_one(f"#datasets-split-{index}", Input).value.strip()
                if name:
                    splits.setdefault(name, []).append(str(file))
            if not splits:
                self.notify("Every file is skipped: give at least one a split name.", severity="warning")
                return None
        header = self.query_one("#datasets-open-header", Checkbox).value
        typed = self.query_one("#datasets-open-names", Input).value
        names = [name.strip() for name in typed.split(",")] if typed.strip() and not header else None
        return OpenRequest(source, splits, config, split, header=header, names=names)

    @on(Input.Submitted)
    @on(Button.Pressed, "#datasets-open-ok")
    def _open(self) -> None:
        request = self._request()
        if request is not None:
            self.dismiss(request)

    @on(OptionList.OptionSelected, "#datasets-cache-list")
    def _open_cached(self, event: OptionList.OptionSelected) -> None:
        entry = self.cache_entries[int(event.option.id)]
        self.dismiss(OpenRequest(str(entry.folder)))

    @on(Button.Pressed, "#datasets-open-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class RowDetailDialog(ModalScreen[str | None]):
    """Every cell of one row in full (long texts wrap; megabyte cells are cut with a note)."""

    DEFAULT_CSS = (
        DIALOG_CSS
        + """
    #datasets-detail-body { height: auto; max-height: 30; }
    .datasets-detail-name { text-style: bold; color: $accent; margin-top: 1; }
    """
    )
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="datasets.detail.close", tooltip="Back to the table"),
        Binding(
            "t", "send", "Send to tokenizer", id="datasets.detail.send", tooltip="Open this row in the Tokenizer pane"
        ),
    ]

    def __init__(self, title: str, row: dict) -> None:
        super().__init__()
        self.title_text = title
        self.row = row

    def compose(self) -> ComposeResult:
        with Vertical(classes="datasets-dialog"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(id="datasets-detail-body"):
                for name, value in self.row.items():
                    yield Static(f"{name}  ({describe_value(value)})", classes="datasets-detail-name", markup=False)
                    yield Static(full_text(value), markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send to tokenizer (t)", id="datasets-detail-send")
                yield Button("Close", variant="primary", id="datasets-detail-close")

    def on_mount(self) -> None:
        self.query_one("#datasets-detail-body").focus()

    @on(Button.Pressed, "#datasets-detail-send")
    def action_send(self) -> None:
        self.dismiss("send")

    @on(Button.Pressed, "#datasets-detail-close")
    def action_close(self) -> None:
        self.dismiss(None)


def describe_value(value) -> str:
    if isinstance(value, str):
        return f"{len(value):,} characters"
    if isinstance(value, list):
        return f"{len(value):,} items"
    return type(value).__name__ if value is not None else "empty"


def full_text(value) -> str:
    text = value if isinstance(value, str) else repr(value) if value is not None else "∅"
    if len(text) > DETAIL_CHARS:
        return text[:DETAIL_CHARS] + f"\n… {len(text) - DETAIL_CHARS:,} more characters not shown"
    return text


class JumpDialog(ModalScreen[int | None]):
    """Go to row N (of the view: the split, or the search results)."""

    DEFAULT_CSS = DIALOG_CSS + ".datasets-dialog { max-width: 50; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="datasets.jump.cancel", tooltip="Close")]

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total

    def compose(self) -> ComposeResult:
        with Vertical(classes="datasets-dialog"):
            yield Static(f"Go to row (0 – {max(self.total - 1, 0):,})", classes="dialog-title")
            yield Input(placeholder="row number", id="datasets-jump-row", type="integer")

    @on(Input.Submitted)
    def _go(self, event: Input.Submitted) -> None:
        try:
            row = int(event.value.replace(",", "").replace("_", ""))
        except ValueError:
            self.notify("Type a row number.", severity="warning")
            return
        if not 0 <= row < self.total:
            self.notify(f"Row {row:,} is out of range (0 – {self.total - 1:,}).", severity="warning")
            return
        self.dismiss(row)

    def action_cancel(self) -> None:
        self.dismiss(None)
