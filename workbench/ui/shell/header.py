"""The top bar: app name, active model and Hub status."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label


class WorkbenchHeader(Horizontal):
    DEFAULT_CSS = """
    WorkbenchHeader {
        height: 1;
        dock: top;
        background: $panel;
        color: $foreground;
    }
    WorkbenchHeader #app-name { text-style: bold; color: $primary; padding: 0 1; }
    WorkbenchHeader #active-model { width: 1fr; padding: 0 1; color: $text-muted; }
    WorkbenchHeader #hub-status { padding: 0 1; }
    WorkbenchHeader #hub-status.-online { color: $success; }
    WorkbenchHeader #hub-status.-offline { color: $warning; }
    """

    active_model: reactive[str] = reactive("")
    hub_status: reactive[str] = reactive("checking")

    def compose(self) -> ComposeResult:
        yield Label("workbench", id="app-name")
        yield Label("", id="active-model")
        yield Label("", id="hub-status")

    def watch_active_model(self, name: str) -> None:
        self.query_one("#active-model", Label).update(f"model: {name}" if name else "no model")

    def watch_hub_status(self, status: str) -> None:
        label = self.query_one("#hub-status", Label)
        label.update(f"Hub: {status}")
        label.set_class(status == "online", "-online")
        label.set_class(status == "offline", "-offline")
