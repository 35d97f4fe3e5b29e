"""The main screen: one tab per pane."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from workbench.ui.panes.datasets import DatasetsPane
from workbench.ui.panes.models import ModelsPane
from workbench.ui.panes.tokenizer import TokenizerPane
from workbench.ui.panes.training import TrainingPane
from workbench.ui.widgets.header import WorkbenchHeader

# (pane id, title, widget class); the order is the tab order and the number keys.
PANES = [
    ("models", "Models", ModelsPane),
    ("tokenizer", "Tokenizer", TokenizerPane),
    ("datasets", "Datasets", DatasetsPane),
    ("training", "Training", TrainingPane),
]


class MainScreen(Screen):
    def compose(self) -> ComposeResult:
        yield WorkbenchHeader()
        with TabbedContent(id="panes"):
            for pane_id, title, pane_class in PANES:
                with TabPane(title, id=pane_id):
                    yield pane_class(id=f"{pane_id}-pane")
        yield Footer()
