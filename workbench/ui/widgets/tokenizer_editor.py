"""The Tokenizer pane's text box: a TextArea that hands very large pastes to the pane.

Textual's TextArea re-lays out the whole document on each edit: with a megabyte in it a
keystroke costs seconds. Large pastes never enter it; the pane keeps them and shows a preview.
"""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

# Above this many characters a paste is kept out of the editor.
LARGE_TEXT = 50_000


class TokenizerEditor(TextArea):
    class LargePasted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def on_paste(self, event: events.Paste) -> None:
        if len(event.text) > LARGE_TEXT and not self.read_only:
            event.prevent_default()  # TextArea's own paste would insert it all
            event.stop()
            self.post_message(self.LargePasted(event.text))
