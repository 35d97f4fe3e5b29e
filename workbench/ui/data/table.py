"""A virtual table over a `RowPager`: it renders only the visible lines, fetching their
page from the memory-mapped Arrow table, so a million rows scroll as fast as ten.

Rows that are slow to read (a far page of a Parquet row group, decoded from the group's
start) are loaded by a worker while the lines show a placeholder: keys never wait on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import on, work
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from workbench.core.data.paging import RowPager
from workbench.core.errors import WorkbenchError

MAX_COLUMN_WIDTH = 48
MIN_COLUMN_WIDTH = 4
GAP = 2
FITTED_MIN_WIDTH = 8
LOADING = "…"


class DatasetTable(ScrollView, can_focus=True):
    """Rows of one split (or of search results); a sticky header; a cursor row."""

    COMPONENT_CLASSES = {"datasets-table--header", "datasets-table--cursor", "datasets-table--index"}
    DEFAULT_CSS = """
    DatasetTable {
        height: 1fr;
        background: $surface;
    }
    DatasetTable > .datasets-table--header { text-style: bold; background: $panel; color: $text; }
    DatasetTable > .datasets-table--cursor { background: $accent 40%; }
    DatasetTable:focus > .datasets-table--cursor { background: $accent; color: $text; }
    DatasetTable > .datasets-table--index { color: $text-muted; }
    """
    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False, id="datasets.table.up", tooltip="Previous row"),
        Binding("down,j", "move(1)", "Down", show=False, id="datasets.table.down", tooltip="Next row"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="datasets.table.page_up", tooltip="One screen up"),
        Binding(
            "pagedown,space",
            "page(1)",
            "Page down",
            show=False,
            id="datasets.table.page_down",
            tooltip="One screen down",
        ),
        Binding("home", "first", "First row", show=False, id="datasets.table.first", tooltip="Go to the first row"),
        Binding("end,G", "last", "Last row", show=False, id="datasets.table.last", tooltip="Go to the last row"),
        Binding("enter", "choose", "Details", id="datasets.table.details", tooltip="Show the whole row"),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True)

    @dataclass
    class CursorMoved(Message):
        """The cursor is on another row (position in the view, row number in the split)."""

        position: int
        row: int
        total: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DatasetTable.CursorMoved)

    @dataclass
    class ReadFailed(Message):
        """Rows could not be read (a file read in place changed); the pager is dropped."""

        error: str

    @dataclass
    class RowsLoaded(Message, bubble=False):
        """A worker has read the rows the screen waits for (into the pager's cache)."""

        pager: RowPager

    @dataclass
    class RowChosen(Message):
        """Enter or a double click on a row: show it whole."""

        position: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pager: RowPager | None = None
        self.columns: list[str] = []
        self.widths: list[int] = []
        self.natural_widths: list[int] = []
        self.index_width = 1
        self._loading: tuple | None = None  # (pager, start, count) being read by a worker

    # -- data ------------------------------------------------------------------------------
    def show(self, pager: RowPager | None, *, keep_widths: bool = False, cursor: int = 0) -> None:
        """Show another pager (a split, or search results); keeps column widths when asked."""
        if pager is not None and (not keep_widths or pager.column_names != self.columns):
            try:
                self.natural_widths = self._measure(pager)
            except WorkbenchError as error:
                self.post_message(self.ReadFailed(str(error)))
                pager = None
            else:
                self.columns = list(pager.column_names)
        self.pager = pager
        if pager is None:
            self.columns, self.natural_widths = [], []
        total = len(pager) if pager is not None else 0
        # Wide enough for the split's last row number: search results show row numbers of the split,
        # which are larger than their count (row 1,002 among 3 results was cut to "1,0").
        self.index_width = max(3, len(f"{max(pager.source.num_rows - 1, 0):,}")) if pager is not None else 3
        self._fit_widths()
        self.cursor_row = min(max(cursor, 0), max(total - 1, 0))
        self.refresh()

    @property
    def total(self) -> int:
        return len(self.pager) if self.pager is not None else 0

    def _read_failed(self, error: WorkbenchError) -> None:
        if self.pager is None:
            return
        self.pager = None
        self.post_message(self.ReadFailed(str(error)))
        self.call_later(self.show, None)

    def _measure(self, pager: RowPager) -> list[int]:
        sample = pager.rows(0, 64)
        widths = []
        for name in pager.column_names:
            longest = max([cell_len(name)] + [cell_len(row[name]) for row in sample])
            widths.append(max(MIN_COLUMN_WIDTH, min(MAX_COLUMN_WIDTH, longest)))
        return widths

    def _fit_widths(self) -> None:
        """Shrink the widest columns until every column fits the width (down to a minimum)."""
        widths = list(self.natural_widths)
        available = self.scrollable_content_region.width - self.index_width - GAP - GAP * len(widths)
        while widths and sum(widths) > available:
            widest = max(widths)
            if widest <= FITTED_MIN_WIDTH:
                break
            index = widths.index(widest)
            second = max([w for i, w in enumerate(widths) if i != index] or [FITTED_MIN_WIDTH])
            excess = sum(widths) - available
            widths[index] = max(FITTED_MIN_WIDTH, second, widest - excess) if second < widest else widest - 1
        self.widths = widths
        self.virtual_size = Size(self._line_width(), self.total + 1)
        self.refresh()

    def on_resize(self) -> None:
        if self.pager is not None:
            self._fit_widths()

    def _line_width(self) -> int:
        return self.index_width + GAP + sum(width + GAP for width in self.widths)

    # -- rendering ---------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            cells = ["#".rjust(self.index_width)] + self.columns
            strip = self._strip(cells, self.get_component_rich_style("datasets-table--header"), None)
        else:
            position = scroll_y + y - 1
            if self.pager is None or position >= self.total:
                return Strip.blank(width, self.rich_style)
            if not self.pager.ready(position, 1):
                self._load_visible_rows()
                return self._placeholder(position)
            try:
                row = self.pager.rows(position, 1)[0]
            except WorkbenchError as error:
                # A file read in place changed or broke under us: say so on the line, once.
                self._read_failed(error)
                return Strip.blank(width, self.rich_style)
            number = f"{self.pager.source_row(position):,}".rjust(self.index_width)
            base = self.rich_style
            if position == self.cursor_row:
                base = base + self.get_component_rich_style("datasets-table--cursor")
                index_style = base
            else:
                index_style = base + self.get_component_rich_style("datasets-table--index")
            strip = self._strip([number] + [row[name] for name in self.columns], base, index_style)
        return strip.crop_extend(scroll_x, scroll_x + width, strip_style(strip))

    def _placeholder(self, position: int) -> Strip:
        number = f"{self.pager.source_row(position):,}".rjust(self.index_width)
        style = self.rich_style + self.get_component_rich_style("datasets-table--index")
        strip = self._strip([number] + [LOADING] * len(self.columns), style, None)
        scroll_x = int(self.scroll_offset.x)
        return strip.crop_extend(scroll_x, scroll_x + self.size.width, style)

    def _load_visible_rows(self) -> None:
        """Start one worker for the rows on screen (once per screen position)."""
        start = int(self.scroll_offset.y)
        count = max(1, self.scrollable_content_region.height)
        wanted = (self.pager, start, count)
        if self._loading == wanted:
            return
        self._loading = wanted
        self._read_rows(self.pager, start, count)

    @work(thread=True, exclusive=True, exit_on_error=False, group="datasets-table-rows")
    def _read_rows(self, pager: RowPager, start: int, count: int) -> None:
        try:
            pager.rows(start, count)  # fills the pager's cache; the UI thread then paints from it
        except WorkbenchError as error:
            self.app.call_from_thread(self._read_failed, error)
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.RowsLoaded(pager))

    @on(RowsLoaded)
    def _rows_loaded(self, message: RowsLoaded) -> None:
        if message.pager is self.pager:
            self._loading = None
            self.refresh()

    def _strip(self, cells: list[str], style, index_style) -> Strip:
        segments = [Segment(set_cell_size(cells[0], self.index_width) + " " * GAP, index_style or style)]
        for text, width in zip(cells[1:], self.widths):
            segments.append(Segment(set_cell_size(text, width) + " " * GAP, style))
        return Strip(segments, self._line_width())

    # -- cursor --------------------------------------------------------------------------------
    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        if self.pager is not None and self.total:
            self.post_message(self.CursorMoved(new, self.pager.source_row(new), self.total))

    def _scroll_cursor_into_view(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def go_to(self, position: int) -> None:
        self.cursor_row = min(max(position, 0), max(self.total - 1, 0))

    def action_move(self, delta: int) -> None:
        self.go_to(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.go_to(self.cursor_row + direction * max(1, self.scrollable_content_region.height - 2))

    def action_first(self) -> None:
        self.go_to(0)

    def action_last(self) -> None:
        self.go_to(self.total - 1)

    def action_choose(self) -> None:
        if self.total:
            self.post_message(self.RowChosen(self.cursor_row))

    def on_click(self, event) -> None:
        if event.y >= 1:
            self.go_to(int(self.scroll_offset.y) + event.y - 1)
            if event.chain == 2:
                self.action_choose()


def strip_style(strip: Strip):
    """The style to pad a line with: the style of its last segment."""
    segments = list(strip)
    return segments[-1].style if segments else None
