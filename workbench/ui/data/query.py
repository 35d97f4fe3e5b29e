"""The search bar and the filter bar above the dataset table."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Checkbox, Input, Select

from workbench.core.data.search import OPERATORS

ALL_TEXT_COLUMNS = "*"


@dataclass(frozen=True)
class SearchQuery:
    text: str
    column: str | None  # None: every text column
    regex: bool


@dataclass(frozen=True)
class FilterQuery:
    column: str
    operator: str
    value: str


class SearchBar(Horizontal):
    DEFAULT_CSS = """
    SearchBar { height: auto; display: none; }
    SearchBar.-shown { display: block; }
    SearchBar Input { width: 1fr; }
    SearchBar Select { width: 28; }
    SearchBar Checkbox { width: auto; }
    """

    @dataclass
    class Submitted(Message):
        query: SearchQuery

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search text (Enter runs, Esc stops/clears)", id="datasets-search-text")
        yield Select(
            [("all text columns", ALL_TEXT_COLUMNS)],
            value=ALL_TEXT_COLUMNS,
            allow_blank=False,
            id="datasets-search-column",
        )
        yield Checkbox("regex", id="datasets-search-regex")

    def set_columns(self, text_columns: list[str]) -> None:
        options = [("all text columns", ALL_TEXT_COLUMNS)] + [(name, name) for name in text_columns]
        self.query_one("#datasets-search-column", Select).set_options(options)

    def open(self) -> None:
        self.add_class("-shown")
        self.query_one("#datasets-search-text", Input).focus()

    @on(Input.Submitted, "#datasets-search-text")
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        column = self.query_one("#datasets-search-column", Select).value
        regex = self.query_one("#datasets-search-regex", Checkbox).value
        self.post_message(
            self.Submitted(SearchQuery(event.value, None if column == ALL_TEXT_COLUMNS else str(column), regex))
        )


class FilterBar(Horizontal):
    DEFAULT_CSS = """
    FilterBar { height: auto; display: none; }
    FilterBar.-shown { display: block; }
    FilterBar Select { width: 26; }
    FilterBar Input { width: 1fr; }
    """

    @dataclass
    class Submitted(Message):
        query: FilterQuery

    def compose(self) -> ComposeResult:
        yield Select([], prompt="column", id="datasets-filter-column")
        yield Select([(op, op) for op in OPERATORS], value="==", allow_blank=False, id="datasets-filter-operator")
        yield Input(placeholder="value (Enter runs)", id="datasets-filter-value")

    def set_columns(self, columns: list[str]) -> None:
        select = self.query_one("#datasets-filter-column", Select)
        select.set_options([(name, name) for name in columns])
        if columns:
            select.value = columns[0]

    def open(self) -> None:
        self.add_class("-shown")
        self.query_one("#datasets-filter-column", Select).focus()

    @on(Input.Submitted, "#datasets-filter-value")
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        column = self.query_one("#datasets-filter-column", Select).value
        if column is Select.NULL:
            self.notify("Pick a column to filter on.", severity="warning")
            return
        operator = str(self.query_one("#datasets-filter-operator", Select).value)
        self.post_message(self.Submitted(FilterQuery(str(column), operator, event.value)))
