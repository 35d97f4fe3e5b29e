"""Models pane: choose a checkpoint and a head, see what loads, run inference."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from workbench.ui.widgets.empty_state import EmptyState


class ModelsPane(Vertical):
    def compose(self) -> ComposeResult:
        yield EmptyState(
            "[b]Models[/b]\n\n"
            "The embedded default, all-MiniLM-L6-v2 (a 6-layer BERT encoder with a WordPiece tokenizer),"
            " is active and works offline.\n"
            "Pick a checkpoint from the local cache, a folder or a finished run, choose a head,"
            " and try it on your own text.",
            id="models-empty",
        )

    def palette_commands(self) -> list:
        return []
