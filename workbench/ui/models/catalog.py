"""The checkpoint list of the Models pane and the path input with folder completion."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from workbench.core.errors import WorkbenchError
from workbench.core.models.catalog import CatalogEntry, complete_path, embedded_entry, folder_entry

SOURCE_BADGES = {"embedded": "●", "folder": "▸", "run": "◆", "cache": "◇", "hub": "☁"}


class FolderSuggester(Suggester):
    """Completes a typed path to the first matching folder (→ accepts it)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value or not value.startswith(("/", ".", "~")):
            return None  # a hub id, not a path
        matches = complete_path(value, limit=1)
        return matches[0] if matches else None


class CatalogList(OptionList):
    """Every known checkpoint: embedded, opened folders, runs, the HF cache.

    It scans runs and the cache itself (in a worker) and keeps what it found; the pane adds
    the folders the user opens and the hub models it resolves.
    """

    DEFAULT_CSS = """
    CatalogList { height: 1fr; border: round $panel-lighten-2; }
    CatalogList:focus { border: round $primary; }
    """

    @dataclass
    class Scanned(Message):
        entries: list[CatalogEntry]
        problem: str | None

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.entries: list[CatalogEntry] = []
        self.border_title = "Checkpoints"
        self.opened_folders: list[Path] = []
        self.scanned: list[CatalogEntry] = []
        self.selected_location: str | None = None

    @work(thread=True, exclusive=True, exit_on_error=False, group="models-catalog")
    def scan(self) -> None:
        from workbench.core.models.catalog import cached_models, run_models
        from workbench.core.settings import load_settings

        entries, problems = [], []
        try:
            entries += run_models(load_settings().runs_path)
        except OSError as error:
            problems.append(f"Runs folder: {error}")
        try:
            entries += cached_models()
        except WorkbenchError as error:
            problems.append(str(error))
        self.post_message(self.Scanned(entries, "; ".join(problems) or None))

    @on(Scanned)
    def _scanned(self, message: Scanned) -> None:
        message.stop()
        self.scanned = message.entries
        self.refresh_entries()
        if message.problem:
            self.notify(message.problem, severity="warning")

    def refresh_entries(self) -> None:
        entries = [embedded_entry(), *(folder_entry(folder) for folder in self.opened_folders), *self.scanned]
        self.show_entries(entries, self.selected_location)

    def add_found(self, entry: CatalogEntry) -> None:
        """A hub model resolved to a folder: listed (once) with the scanned ones."""
        self.scanned = [known for known in self.scanned if known.location != entry.location] + [entry]
        self.refresh_entries()

    def known(self, folder: Path) -> CatalogEntry | None:
        resolved = folder.resolve()
        return next((entry for entry in self.scanned if Path(entry.location).resolve() == resolved), None)

    def is_opened(self, folder: Path) -> bool:
        return folder.resolve() in [item.resolve() for item in self.opened_folders]

    def add_folder(self, folder: Path) -> None:
        self.opened_folders.append(folder)
        self.refresh_entries()

    def show_entries(self, entries: list[CatalogEntry], selected_location: str | None = None) -> None:
        self.entries = list(entries)
        self.clear_options()
        for index, entry in enumerate(self.entries):
            prompt = Text.assemble(
                (f"{SOURCE_BADGES.get(entry.source, '·')} ", "dim"), (entry.name, "bold"), "\n  ", (entry.detail, "dim")
            )
            self.add_option(Option(prompt, id=str(index)))
        locations = [entry.location for entry in self.entries]
        if selected_location in locations:
            self.highlighted = locations.index(selected_location)
        elif self.entries:
            self.highlighted = 0

    def entry_at(self, index: int | None) -> CatalogEntry | None:
        if index is None or not 0 <= index < len(self.entries):
            return None
        return self.entries[index]
