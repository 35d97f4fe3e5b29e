"""Show code: one dialog for every pane's "the Python that reproduces this", selectable and copyable.

`CodeDialog(code, title, ids=...)`: the code in a read-only TextArea with line numbers, Copy all
(ctrl+y) and Close (escape). `ids` keeps each caller's widget ids (TextArea, copy button, close button)
so its tests and snapshots find them as before.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

DEFAULT_IDS = ("code-text", "code-copy", "code-close")


class CodeDialog(ModalScreen[None]):
    """The code behind a view, ready to copy."""

    DEFAULT_CSS = """
    CodeDialog { align: center middle; }
    CodeDialog > Vertical { width: 92%; height: 85%; border: round $accent; background: $surface; padding: 0 1; }
    CodeDialog TextArea { height: 1fr; }
    CodeDialog .code-dialog-title { text-style: bold; height: 1; }
    CodeDialog .dialog-buttons { height: auto; align-horizontal: right; }
    CodeDialog .dialog-buttons Button { margin-left: 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="code.close", tooltip="Close the code"),
        # priority: the focused TextArea would take ctrl+y (redo) first
        Binding("ctrl+y", "copy", "Copy all", id="code.copy", tooltip="Copy the code to the clipboard", priority=True),
    ]

    def __init__(
        self, code: str, title: str = "Code that reproduces this view", *, ids: tuple[str, str, str] = DEFAULT_IDS
    ) -> None:
        super().__init__()
        self.code = code
        self.title_text = title
        self.ids = ids

    def compose(self) -> ComposeResult:
        text_id, copy_id, close_id = self.ids
        with Vertical():
            yield Static(self.title_text, classes="code-dialog-title dialog-title", markup=False)
            yield TextArea(self.code, read_only=True, id=text_id, show_line_numbers=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy all (ctrl+y)", id=copy_id, classes="code-copy")
                yield Button("Close (esc)", variant="primary", id=close_id, classes="code-close")

    @on(Button.Pressed, ".code-copy")
    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.code)
        self.notify("Code copied.")

    @on(Button.Pressed, ".code-close")
    def action_close(self) -> None:
        self.dismiss(None)
