"""The push dialog's file list: status against the Hub, size and path of each file to upload."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from workbench.core.hub.files import LocalFile, human_size

STATUS_STYLE = {"new": "green", "changed": "yellow", "unchanged": "dim"}


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
            path = item.path_in_repo + (" (card)" if item.generated else "")
            self.add_row(
                Text(status, style=STATUS_STYLE.get(item.status, "")),
                Text(human_size(item.size), justify="right"),
                path,
                key=item.path_in_repo,
            )


def files_title(files: list[LocalFile]) -> str:
    """ "Files · 5 (86.7 MiB) · 3 new, 2 unchanged"."""
    counts = {status: sum(1 for f in files if f.status == status) for status in ("new", "changed", "unchanged")}
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    total = human_size(sum(f.size for f in files))
    return f"Files · {len(files)} ({total})" + (f" · {summary}" if summary else "")


class PushFilesBox(Vertical):
    """The title line and the list; `show(files)` updates both."""

    DEFAULT_CSS = """
    PushFilesBox #files-title { height: 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Files", id="files-title")
        yield PushFileList(id="push-files")

    def show(self, files: list[LocalFile]) -> None:
        self.query_one(PushFileList).show(files)
        self.query_one("#files-title", Static).update(files_title(files))
