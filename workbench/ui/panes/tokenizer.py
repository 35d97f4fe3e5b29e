"""Tokenizer pane: a live view of exactly what the model sees."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from workbench.ui.widgets.empty_state import EmptyState


class TokenizerPane(Vertical):
    def compose(self) -> ComposeResult:
        yield EmptyState(
            "[b]Tokenizer[/b]\n\n"
            "Type text to see it split into tokens with their ids, offsets and word ids,"
            " using the active model's tokenizer.",
            id="tokenizer-empty",
        )

    def palette_commands(self) -> list:
        return []
