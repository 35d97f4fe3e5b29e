"""The push dialog's file list: status against the Hub, size and path of each file to upload."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from workbench.core.hub.files import LocalFile, human_size


class PushFileList(DataTable):
    """Rows of (status, size, path); `show` replaces them."""

    DEFAULT_CSS = """
    PushFileList { height: 1fr; }
    """

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_column("Status", key="status", width=9)
        self.add_column("Size", key="size", width=8)
        self.add_column("File", key="path")

    def show(self, files: list[LocalFile]) -> None:
        self.clear()
        for item in files:
            status = item.status or "…"
            style = {"new": "green", "changed": "yellow", "unchanged": "dim"}.get(item.status, "")
            path = item.path_in_repo + (" (card)" if item.generated else "")
            self.add_row(
                Text(status, style=style), Text(human_size(item.size), justify="right"), path, key=item.path_in_repo
            )
