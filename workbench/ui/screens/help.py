"""The help screen: every key binding of the app, its screens and panes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 72; height: 80%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    HelpScreen #help-title { text-style: bold; margin-bottom: 1; }
    HelpScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape,q,f1,question_mark", "dismiss", "Close", id="help.close", tooltip="Close the help screen"),
    ]

    def __init__(self, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self._rows = bindings

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Keys  ·  ctrl+p opens the command palette", id="help-title")
            table = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("Key", "Action", "Where")
            for key, description, where in self._rows:
                table.add_row(key, description, where)
            yield table

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
