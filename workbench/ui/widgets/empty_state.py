"""A centred message for a pane with nothing in it yet, saying what to do next."""

from __future__ import annotations

from textual.widgets import Static


class EmptyState(Static):
    DEFAULT_CSS = """
    EmptyState {
        width: 1fr;
        height: auto;
        margin: 2 4;
        padding: 1 2;
        border: round $foreground 25%;
        color: $text-muted;
    }
    """
