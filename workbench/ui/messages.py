"""Messages shared across panes. Messages owned by one widget are nested in it.

Panes never reach into each other: they post one of these, the app routes it
(sets an app-level reactive, switches pane, calls the target pane's public method).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from workbench.core.data.selection import DatasetSelection


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
    """The Datasets pane opened a dataset or changed its selection; sets `app.active_dataset`.

    `info` is a `core.data.selection.DatasetSelection` (typed fields; it also reads like the
    old dict: `info.get("text_column")`, `info["label_names"]`; `to_dict()` gives the JSON form).
    """

    def __init__(self, info: DatasetSelection | dict) -> None:
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
