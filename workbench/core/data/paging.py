"""Rows a page at a time from a `RowSource` (memory-mapped Arrow, or Parquet read in place):
only the visible page becomes Python objects, so a million-row split costs what one screen costs."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from workbench.core.data.rows import RowSource, rows_of

if TYPE_CHECKING:
    from datasets import Dataset

PAGE_ROWS = 128
CELL_PREVIEW_CHARS = 300


class RowPager:
    """Pages of `dataset` (optionally only the rows in `indices`), with a small page cache.

    Safe to share between the UI thread and one loader thread: `ready` says whether `rows`
    would answer at once, so a table can load the other pages in a worker.
    """

    def __init__(
        self, dataset: Dataset | RowSource, indices: Sequence[int] | None = None, *, cached_pages: int = 16
    ) -> None:
        self.source = rows_of(dataset)
        self.indices = indices
        self.column_names: list[str] = self.source.column_names
        self._pages: OrderedDict[int, list[dict]] = OrderedDict()
        self._cached_pages = cached_pages
        self._lock = threading.Lock()  # guards the page cache only, never held while reading

    def __len__(self) -> int:
        return len(self.indices) if self.indices is not None else self.source.num_rows

    def source_row(self, position: int) -> int:
        """The row number in the split of the `position`-th row of this view."""
        return int(self.indices[position]) if self.indices is not None else position

    def rows(self, start: int, count: int) -> list[dict]:
        """Rows `start` .. `start + count` of the view (fewer at the end)."""
        out: list[dict] = []
        position = max(0, start)
        stop = min(len(self), start + count)
        while position < stop:
            page_number = position // PAGE_ROWS
            page = self._page(page_number)
            offset = position - page_number * PAGE_ROWS
            take = min(stop - position, len(page) - offset)
            out.extend(page[offset : offset + take])
            position += take
        return out

    def ready(self, start: int, count: int) -> bool:
        """Whether `rows(start, count)` answers at once (its pages are cached or cheap to read)."""
        stop = min(len(self), start + count)
        for number in range(max(0, start) // PAGE_ROWS, (stop - 1) // PAGE_ROWS + 1 if stop > 0 else 0):
            if number in self._pages:
                continue
            first, last = number * PAGE_ROWS, min(len(self), (number + 1) * PAGE_ROWS)
            if self.indices is None:
                if not self.source.cheap(first, last):
                    return False
            elif not self.source.cheap_take(self.indices[first:last]):
                return False
        return True

    def row(self, position: int) -> dict:
        """One full row (cells not truncated), for the detail view and "send to tokenizer"."""
        row = self.source_row(position)
        return self.source.slice(row, row + 1).to_pylist()[0]

    def _page(self, number: int) -> list[dict]:
        with self._lock:
            page = self._pages.get(number)
            if page is not None:
                self._pages.move_to_end(number)
                return page
        start = number * PAGE_ROWS
        stop = min(len(self), start + PAGE_ROWS)
        if self.indices is None:
            table = self.source.slice(start, stop)
        else:
            table = self.source.take(self.indices[start:stop])
        page = [{name: preview(value) for name, value in row.items()} for row in _truncated(table).to_pylist()]
        with self._lock:
            self._pages[number] = page
            if len(self._pages) > self._cached_pages:
                self._pages.popitem(last=False)
        return page


def _truncated(table):
    """Cut long strings in Arrow before they become Python strings (a cell may be megabytes)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.utf8_slice_codeunits(column, 0, CELL_PREVIEW_CHARS + 1)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def preview(value) -> str:
    """One line of at most CELL_PREVIEW_CHARS characters for a table cell."""
    if value is None:
        return "∅"
    if isinstance(value, str):
        text = value
    elif isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (list, dict)):
        text = _compact(value)
    else:
        text = str(value)
    text = text.replace("\r\n", "⏎").replace("\n", "⏎").replace("\t", "→")
    if len(text) > CELL_PREVIEW_CHARS:
        text = text[: CELL_PREVIEW_CHARS - 1] + "…"
    return text


def _compact(value, budget: int = CELL_PREVIEW_CHARS) -> str:
    if isinstance(value, list):
        parts = []
        used = 0
        for item in value:
            part = _compact(item, budget - used)
            parts.append(part)
            used += len(part) + 2
            if used > budget:
                parts.append(f"… {len(value)} items")
                break
        return "[" + ", ".join(parts) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_compact(item, budget)}" for key, item in value.items()) + "}"
    return repr(value) if isinstance(value, str) else str(value)
