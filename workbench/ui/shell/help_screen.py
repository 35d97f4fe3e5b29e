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
        width: 84; height: 80%;
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
            # Fixed widths keep "Where" on screen; long descriptions are cut with an ellipsis.
            table.add_column("Key", width=12)
            table.add_column("Action", width=46)
            table.add_column("Where", width=11)
            for key, description, where in self._rows:
                action = description if len(description) <= 46 else description[:45] + "…"
                table.add_row(key, action, where)
            yield table

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
