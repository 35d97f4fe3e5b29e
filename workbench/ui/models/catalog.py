"""The checkpoint list of the Models pane and the path input with folder completion."""

from __future__ import annotations

from rich.text import Text
from textual.suggester import Suggester
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from workbench.core.models.catalog import CatalogEntry, complete_path

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
    """Every known checkpoint: embedded, opened folders, runs, the HF cache."""

    DEFAULT_CSS = """
    CatalogList { height: 1fr; border: round $panel-lighten-2; }
    CatalogList:focus { border: round $primary; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.entries: list[CatalogEntry] = []
        self.border_title = "Checkpoints"

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
