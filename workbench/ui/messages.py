"""Messages shared across panes. Messages owned by one widget are nested in it.

Panes never reach into each other: they post one of these, the app routes it
(sets an app-level reactive, switches pane, calls the target pane's public method).
"""

from __future__ import annotations

from textual.message import Message


class HubStatusChanged(Message):
    """The background Hub probe finished."""

    def __init__(self, status: str) -> None:
        super().__init__()
        self.status = status


class ActiveModelChanged(Message):
    """The Models pane chose a model; sets `app.active_model` / `app.active_model_path`."""

    def __init__(self, name: str, path: str) -> None:
        super().__init__()
        self.name = name
        self.path = path


class ActiveDatasetChanged(Message):
    """The Datasets pane opened or prepared a dataset; sets `app.active_dataset`.

    `info` is a plain dict (JSON-able): at least {"path": str}; the Datasets pane adds
    "splits", "text_column", "text_pair_column", "label_column", "label_names", "task".
    """

    def __init__(self, info: dict) -> None:
        super().__init__()
        self.info = info


class SendToTokenizer(Message):
    """Open this text (and optional pair) in the Tokenizer pane."""

    def __init__(self, text: str, pair: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.pair = pair


class OpenModelRequested(Message):
    """Open this model folder in the Models pane (e.g. a run's final model)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class PushRequested(Message):
    """Open the push-to-Hub dialog for a model folder, optionally a run's."""

    def __init__(self, folder: str, run_dir: str | None = None) -> None:
        super().__init__()
        self.folder = folder
        self.run_dir = run_dir
