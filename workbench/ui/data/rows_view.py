"""The Rows view: the search and filter bars over the dataset table; row details, jump, send.

It owns the search/filter worker and its results: the pane pushes the split down (`source`);
the view shows its rows, or only the rows a query found, and says what it shows (`summary`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.worker import get_current_worker

from workbench.core.data.paging import RowPager
from workbench.core.errors import WorkbenchError
from workbench.ui.data.dialogs import JumpDialog, RowDetailDialog
from workbench.ui.data.query import FilterBar, FilterQuery, SearchBar, SearchQuery
from workbench.ui.data.table import DatasetTable
from workbench.ui.messages import SendToTokenizer

if TYPE_CHECKING:
    import numpy as np

    from workbench.core.data.rows import RowSource
    from workbench.core.data.selection import DatasetSelection


class DatasetsRowsView(Vertical):
    """Rows of the split, or of the search/filter results (a query runs in a worker, a batch at a time)."""

    source: reactive[RowSource | None] = reactive(None, init=False, always_update=True)
    """The split's rows (pushed down by the pane)."""
    selection: reactive[DatasetSelection | None] = reactive(None, init=False)
    """The columns "send to tokenizer" sends (bound from the pane)."""

    @dataclass
    class QueryProgressed(Message):
        """Cumulative results of a search or filter (so only the newest needs delivering)."""

        serial: int
        done: int
        total: int
        matches: np.ndarray
        finished: bool

        def can_replace(self, message: Message) -> bool:
            return (
                isinstance(message, DatasetsRowsView.QueryProgressed)
                and not message.finished
                and message.serial == self.serial
            )

    @dataclass
    class QueryFailed(Message):
        serial: int
        error: str

    @dataclass
    class QueryChanged(Message):
        """What the view shows changed (a query started, grew, stopped or was cleared): the status line."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.query_label = ""
        self.base_label = ""
        self.query_serial = 0
        self.query_running = False
        self.query_matches: np.ndarray | None = None

    def compose(self) -> ComposeResult:
        yield SearchBar(id="datasets-search")
        yield FilterBar(id="datasets-filter")
        yield DatasetTable(id="datasets-table")

    @property
    def table(self) -> DatasetTable:
        return self.query_one(DatasetTable)

    def watch_source(self, source: RowSource | None) -> None:
        from workbench.core.data.labels import string_columns

        self.cancel_query()
        self.query_matches = None
        self.query_label = ""
        self.table.show(RowPager(source) if source is not None else None)
        if source is not None:
            self.query_one(SearchBar).set_columns(string_columns(source))
            self.query_one(FilterBar).set_columns(list(source.column_names))

    def summary(self) -> tuple[str, str]:
        """The view's part of the status line: the cursor's row, and the query with its matches."""
        table = self.table
        where = f"row {table.pager.source_row(table.cursor_row):,}" if table.total else "no rows"
        if not self.query_label:
            return where, ""
        count = len(self.query_matches) if self.query_matches is not None else 0
        return where, f"{self.query_label}: {count:,} matches" + (" · esc stops" if self.query_running else "")

    # -- the bars ------------------------------------------------------------------------------
    def open_search(self) -> None:
        self.query_one(FilterBar).remove_class("-shown")
        self.query_one(SearchBar).open()

    def open_filter(self) -> None:
        self.query_one(SearchBar).remove_class("-shown")
        self.query_one(FilterBar).open()

    @on(SearchBar.Submitted)
    def _search_submitted(self, event: SearchBar.Submitted) -> None:
        query: SearchQuery = event.query
        where = query.column or "text columns"
        kind = "regex" if query.regex else "search"
        self.run_search(query, label=f"{kind} {query.text!r} in {where}")
        self.table.focus()  # browse the results at once; / returns to the query

    @on(FilterBar.Submitted)
    def _filter_submitted(self, event: FilterBar.Submitted) -> None:
        self.run_filter(event.query)
        self.table.focus()

    # -- queries -------------------------------------------------------------------------------
    def run_search(self, query: SearchQuery, *, label: str | None = None) -> None:
        if self.source is None:
            return
        self._begin_query(label or f"search {query.text!r}")
        self._query_worker(self.query_serial, "search", query, self.source)

    def run_filter(self, query: FilterQuery) -> None:
        if self.source is None:
            return
        value = f" {query.value!r}" if query.value else ""
        self._begin_query(f"filter {query.column} {query.operator}{value}")
        self._query_worker(self.query_serial, "filter", query, self.source)

    def _begin_query(self, label: str) -> None:
        import numpy as np

        self.query_serial += 1
        self.base_label = label
        self.query_label = label + " (0%)"
        self.query_running = True
        self.query_matches = np.empty(0, dtype=np.int64)
        self.table.show(RowPager(self.source, self.query_matches), keep_widths=True)
        self.post_message(self.QueryChanged())

    @work(thread=True, exclusive=True, exit_on_error=False, group="datasets-query")
    def _query_worker(self, serial: int, kind: str, query, source: RowSource) -> None:
        import numpy as np

        from workbench.core.data.search import iter_filter, iter_search

        worker = get_current_worker()
        try:
            if kind == "search":
                columns = [query.column] if query.column else None
                progress = iter_search(source, query.text, columns=columns, regex=query.regex)
            else:
                progress = iter_filter(source, query.column, query.operator, query.value)
            found: list[np.ndarray] = []
            done, total = 0, source.num_rows
            for step in progress:
                if worker.is_cancelled:
                    return
                found.append(step.matches)
                done, total = step.done, step.total
                self.post_message(self.QueryProgressed(serial, done, total, np.concatenate(found), False))
            matches = np.concatenate(found) if found else np.empty(0, dtype=np.int64)
            self.post_message(self.QueryProgressed(serial, done, total, matches, True))
        except WorkbenchError as error:
            self.post_message(self.QueryFailed(serial, str(error)))
        except Exception as error:  # an unexpected library error: shown, never a traceback on screen
            self.post_message(self.QueryFailed(serial, f"{type(error).__name__}: {error}"))

    @on(QueryProgressed)
    def _query_progressed(self, message: QueryProgressed) -> None:
        message.stop()
        if message.serial != self.query_serial or self.source is None:
            return
        grew = self.query_matches is None or len(message.matches) != len(self.query_matches)
        self.query_matches = message.matches
        self.query_running = not message.finished
        percent = 100 if not message.total else message.done * 100 // message.total
        self.query_label = self.base_label + ("" if message.finished else f" ({percent}%)")
        if grew:
            table = self.table
            table.show(RowPager(self.source, message.matches), keep_widths=True, cursor=table.cursor_row)
        self.post_message(self.QueryChanged())

    @on(QueryFailed)
    def _query_failed(self, message: QueryFailed) -> None:
        message.stop()
        if message.serial != self.query_serial:
            return
        self.query_running = False
        self.notify(message.error, title="Search", severity="error", timeout=10, markup=False)
        self.clear_query()

    def cancel_query(self) -> None:
        self.workers.cancel_group(self, "datasets-query")
        self.query_serial += 1
        self.query_running = False

    def clear_query(self) -> None:
        self.query_matches = None
        self.query_label = ""
        if self.source is not None:
            self.table.show(RowPager(self.source), keep_widths=True)
        self.post_message(self.QueryChanged())

    def stop_or_clear(self) -> None:
        """Esc: stop a running query (keeping what it found), else clear its results and close the bars."""
        if self.query_running:
            self.cancel_query()
            self.query_label = self.base_label + " (stopped)"
            self.post_message(self.QueryChanged())
            return
        if self.query_label:
            self.clear_query()
        for bar in [*self.query(SearchBar), *self.query(FilterBar)]:
            bar.remove_class("-shown")
        self.table.focus()

    # -- rows ----------------------------------------------------------------------------------
    def jump(self) -> None:
        table = self.table

        def jump(row: int | None) -> None:
            if row is not None:
                table.go_to(row)
                table.focus()

        self.app.push_screen(JumpDialog(table.total), jump)

    @on(DatasetTable.RowChosen)
    def _row_chosen(self, event: DatasetTable.RowChosen) -> None:
        event.stop()
        table = self.table
        row = self._full_row(event.position)
        if row is None:
            return
        selection = self.selection
        where = f"{selection.name} · {selection.split} · " if selection is not None else ""
        title = f"{where}row {table.pager.source_row(event.position):,}"

        def closed(result: str | None) -> None:
            if result == "send":
                self._send_row(row)

        self.app.push_screen(RowDetailDialog(title, row), closed)

    def send_current_row(self) -> None:
        """Open the row under the cursor (its text and pair columns) in the Tokenizer pane."""
        if not self.table.total:
            self.notify("No row to send.", severity="warning")
            return
        row = self._full_row(self.table.cursor_row)
        if row is not None:
            self._send_row(row)

    def _full_row(self, position: int) -> dict | None:
        if self.table.pager is None:
            return None
        try:
            return self.table.pager.row(position)
        except WorkbenchError as error:
            self.notify(str(error), title="Could not read the row", severity="error", timeout=12, markup=False)
            return None

    def _send_row(self, row: dict) -> None:
        selection = self.selection
        text_column = selection.text_column if selection else None
        if not text_column or text_column not in row:
            self.notify("This dataset has no text column to send.", severity="warning")
            return
        pair_column = selection.text_pair_column
        pair = row.get(pair_column) if pair_column else None
        self.post_message(SendToTokenizer(str(row[text_column]), None if pair is None else str(pair)))
