"""Training pane: start, watch, compare and re-attach to runs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from workbench.ui.widgets.empty_state import EmptyState


class TrainingPane(Vertical):
    def compose(self) -> ComposeResult:
        yield EmptyState(
            "[b]Training[/b]\n\n"
            "No runs yet. Start one from the selected model and dataset,"
            " or headless with `workbench train spec.toml`; runs keep going when the app closes.",
            id="training-empty",
        )

    def palette_commands(self) -> list:
        return []
