"""Datasets pane: open, browse, search and prepare data for a head."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from workbench.ui.widgets.empty_state import EmptyState


class DatasetsPane(Vertical):
    def compose(self) -> ComposeResult:
        yield EmptyState(
            "[b]Datasets[/b]\n\n"
            "No dataset is open. Open CSV, TSV, JSON Lines, Parquet, Arrow or text files,"
            " or a folder written by save_to_disk, to browse rows and prepare them for a head.",
            id="datasets-empty",
        )

    def palette_commands(self) -> list:
        return []
