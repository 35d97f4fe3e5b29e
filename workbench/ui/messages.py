"""Messages shared across panes. Messages owned by one widget are nested in it."""

from __future__ import annotations

from textual.message import Message


class HubStatusChanged(Message):
    """The background Hub probe finished."""

    def __init__(self, status: str) -> None:
        super().__init__()
        self.status = status


class ActiveModelChanged(Message):
    """A pane chose a different model; the header and other panes follow it."""

    def __init__(self, name: str, path: str) -> None:
        super().__init__()
        self.name = name
        self.path = path
