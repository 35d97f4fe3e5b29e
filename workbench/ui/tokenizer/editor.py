"""The Tokenizer pane's text box: a TextArea that reports edits at once and hands very large pastes to the pane.

Edits: a `Changed` message bubbles up through three containers (one queue hop each), and Textual
paints the echo of the key in between; the pane would then paint its new tokens a frame later,
at least 1/60 s after the echo. The editor calls `on_edit` from its own handler instead, so the
echo and the new tokens reach the screen in the same frame.

Large pastes: Textual's TextArea re-lays out the whole document on each edit: with a megabyte in
it a keystroke costs seconds. Large pastes never enter it; the pane keeps them and shows a preview.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import events, on
from textual.geometry import Offset
from textual.message import Message
from textual.widgets import TextArea
from textual.widgets.text_area import Edit, EditResult

# Above this many characters a paste is kept out of the editor.
LARGE_TEXT = 50_000
# A large text's preview: its first characters.
PREVIEW_CHARS = 3_000


class TokenizerEditor(TextArea):
    @dataclass
    class LargePasted(Message):
        text: str

    def __init__(self, *args, on_edit: Callable[[], None] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.on_edit = on_edit
        self.large_text: str | None = None  # a text too large for the editor (previewed, read-only)

    @property
    def full_text(self) -> str:
        """The text to tokenize: the large text when one is shown as a preview."""
        return self.large_text if self.large_text is not None else self.text

    def set_text(self, text: str) -> None:
        """Show a text; a large one as a read-only preview of its start (f4 clears it)."""
        if len(text) > LARGE_TEXT:
            self.large_text = text
            preview = text[:PREVIEW_CHARS]
            self.load_text(preview)
            self.read_only = True
            self.border_title = (
                f"{len(text):,} characters: the first {len(preview):,} shown, all of it tokenized (f4 clears)"
            )
        else:
            self.large_text = None
            self.read_only = False
            self.border_title = None
            self.load_text(text)

    def caret_index(self) -> int:
        return self.document.get_index_from_location(self.cursor_location)

    def first_visible_index(self) -> int:
        """The first character visible in the editor, for texts too long to draw whole."""
        if self.large_text is not None or self.document.line_count < 50:
            return 0
        location = self.wrapped_document.offset_to_location(Offset(0, self.scroll_offset.y))
        return self.document.get_index_from_location(location)

    def edit(self, edit: Edit) -> EditResult:
        # Typing and pasting come through here, while the key is handled: the pane's widgets are
        # marked for repaint before the editor is, so one frame paints them all.
        result = super().edit(edit)
        if self.on_edit is not None:
            self.on_edit()
        return result

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        # Undo, redo and load_text change the text without edit(); the pane ignores a text it shows.
        if event.text_area is self and self.on_edit is not None:
            self.on_edit()

    def on_paste(self, event: events.Paste) -> None:
        if len(event.text) > LARGE_TEXT and not self.read_only:
            event.prevent_default()  # TextArea's own paste would insert it all
            event.stop()
            self.post_message(self.LargePasted(event.text))
