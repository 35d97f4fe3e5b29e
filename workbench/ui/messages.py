"""Messages shared across panes. Messages owned by one widget are nested in it.

Panes never reach into each other: they post one of these, the app routes it
(sets an app-level reactive, switches pane, calls the target pane's public method).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class HubStatusChanged(Message):
    """The background Hub probe finished."""

    status: str


@dataclass
class ActiveModelChanged(Message):
    """The Models pane chose a model; sets `app.active_model` / `app.active_model_path`."""

    name: str
    path: str


@dataclass
class ActiveDatasetChanged(Message):
    """The Datasets pane opened or prepared a dataset; sets `app.active_dataset`.

    `info` is a plain dict (JSON-able): at least {"path": str}; the Datasets pane adds
    "splits", "text_column", "text_pair_column", "label_column", "label_names", "task".
    """

    info: dict


@dataclass
class SendToTokenizer(Message):
    """Open this text (and optional pair) in the Tokenizer pane; `source`: the tokenizer to load (a model
    folder, e.g. a run's final/) and `max_length`/`truncation`/`windows`: cut as that model's inputs were
    (`windows`: the cut-off tokens become more windows, as question answering does, sharing `stride` tokens;
    else they are dropped)."""

    text: str
    pair: str | None = None
    source: str | None = None
    max_length: int | None = None
    truncation: str | None = None
    windows: bool = False
    stride: int = 0  # question answering's data.doc_stride: tokens consecutive windows share


@dataclass
class OpenModelRequested(Message):
    """Open this model folder in the Models pane (e.g. a run's final model); `text`/`pair`: an example
    to fill in the Playground."""

    path: str
    text: str | None = None
    pair: str | None = None


@dataclass
class PushRequested(Message):
    """Open the push-to-Hub dialog for a model folder, optionally a run's."""

    folder: str
    run_dir: str | None = None


@dataclass
class PaneRequested(Message):
    """Show this pane (by id: models, tokenizer, datasets, training)."""

    pane_id: str


@dataclass
class DatasetRowRequested(Message):
    """Open this dataset in the Datasets pane (unless it is the one open) with the cursor on `row` of
    `split` (e.g. an example of the Errors view). `splits` and `config` as `DatasetsPane.open_path` takes them."""

    source: str
    row: int
    split: str | None = None
    splits: dict[str, list[str]] | None = None
    config: str | None = None


@dataclass
class DemoRequested(Message):
    """Start a Gradio demo of this model folder or run (`target`), or stop the running one (None)."""

    target: str | None
