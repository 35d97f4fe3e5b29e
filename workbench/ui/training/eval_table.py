"""The evaluations table of the monitor: one row per evaluation, in a box that never changes size.

A DataTable grows its virtual height with every row, and each growth re-lays out the whole screen
(50-200 ms with the monitor up, measured by benchmarks/monitor_ingest.py). This widget draws only
the rows that fit, so a new evaluation costs one repaint of this box. It follows the newest row
until the user moves the cursor up; `end` (or moving back to the last row) follows again.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.strip import Strip
from textual.widget import Widget

CELL_PADDING = 1  # spaces either side of a cell, as DataTable draws them


class EvalTable(Widget, can_focus=True):
    COMPONENT_CLASSES = {"eval-table--header", "eval-table--even-row", "eval-table--cursor"}
    DEFAULT_CSS = """
    EvalTable { background: $surface; color: $foreground; height: 1fr; }
    EvalTable:focus { background-tint: $foreground 5%; }
    EvalTable > .eval-table--header { text-style: bold; background: $panel; color: $foreground; }
    EvalTable:dark > .eval-table--even-row { background: $surface-darken-1 40%; }
    EvalTable > .eval-table--even-row { background: $surface-lighten-1 50%; }
    EvalTable > .eval-table--cursor {
        background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    EvalTable:focus > .eval-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: $block-cursor-text-style;
    }
    """

    # DataTable's keys, actions and descriptions: the same keys do the same thing in every table.
    BINDINGS = [
        Binding("up", "cursor_up", "Cursor up", show=False, id="eval_table.up", tooltip="Previous evaluation"),
        Binding("down", "cursor_down", "Cursor down", show=False, id="eval_table.down", tooltip="Next evaluation"),
        Binding(
            "pageup", "page_up", "Page up", show=False, id="eval_table.page_up", tooltip="A page of earlier evaluations"
        ),
        Binding(
            "pagedown",
            "page_down",
            "Page down",
            show=False,
            id="eval_table.page_down",
            tooltip="A page of later evaluations",
        ),
        Binding("home", "scroll_home", "Home", show=False, id="eval_table.first", tooltip="The first evaluation"),
        Binding(
            "end",
            "scroll_end",
            "End",
            show=False,
            id="eval_table.last",
            tooltip="The newest evaluation; follow new ones",
        ),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.columns: list[str] = []
        self.rows: list[tuple[str, ...]] = []
        self.cursor_row = -1  # -1: no rows
        self.following = True  # keep the newest row in view and under the cursor
        self._top = 0  # first row shown
        self._widths: list[int] = []
        self._styles: tuple[Style, Style, Style, Style] | None = None

    # -- data ----------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.rows)

    def set_columns(self, names: list[str]) -> None:
        """New columns; drops every row."""
        self.columns = list(names)
        self.rows = []
        self._widths = [cell_len(name) for name in self.columns]
        self.cursor_row = -1
        self.following = True
        self._top = 0
        self._changed()

    def clear(self) -> None:
        self.set_columns([])

    def add_rows(self, rows: list[tuple[str, ...]]) -> None:
        if not rows:
            return
        widths = self._widths
        for cells in rows:
            for index, text in enumerate(cells[: len(widths)]):
                width = cell_len(text)
                if width > widths[index]:
                    widths[index] = width
        self.rows.extend(rows)
        if self.following:
            self.cursor_row = len(self.rows) - 1
        self._changed()

    # -- view ----------------------------------------------------------------------
    @property
    def visible_rows(self) -> int:
        return max(1, self.content_size.height - 1)  # the header takes a line

    def _scroll_to_cursor(self) -> None:
        visible = self.visible_rows
        if self.following:
            self._top = max(0, len(self.rows) - visible)
        elif self.cursor_row < self._top:
            self._top = self.cursor_row
        elif self.cursor_row >= self._top + visible:
            self._top = self.cursor_row - visible + 1
        self._top = max(0, min(self._top, max(0, len(self.rows) - visible)))

    def _changed(self) -> None:
        self._scroll_to_cursor()
        count = len(self.rows)
        subtitle = f"{self.cursor_row + 1}/{count}" if count > self.visible_rows else ""
        if subtitle != (self.border_subtitle or ""):
            self.border_subtitle = subtitle
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._changed()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None  # focus or theme changed

    def _row_styles(self) -> tuple[Style, Style, Style, Style]:
        if self._styles is None:
            base = self.rich_style
            self._styles = (
                base,
                base + self.get_component_rich_style("eval-table--header"),
                base + self.get_component_rich_style("eval-table--even-row"),
                base + self.get_component_rich_style("eval-table--cursor"),
            )
        return self._styles

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        base, header, even, cursor = self._row_styles()
        if y == 0:
            return self._strip(self.columns, header, width) if self.columns else Strip.blank(width, base)
        index = self._top + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, base)
        style = cursor if index == self.cursor_row else (even if index % 2 else base)
        return self._strip(self.rows[index], style, width)

    def _strip(self, cells, style: Style, width: int) -> Strip:
        pad = " " * CELL_PADDING
        text = "".join(
            pad + cell + " " * (column_width - cell_len(cell)) + pad for cell, column_width in zip(cells, self._widths)
        )
        return Strip([Segment(text, style)]).crop_extend(0, width, style)

    # -- keys and mouse --------------------------------------------------------------
    def _move_to(self, row: int) -> None:
        if not self.rows:
            return
        self.cursor_row = max(0, min(len(self.rows) - 1, row))
        self.following = self.cursor_row == len(self.rows) - 1
        self._changed()

    def action_cursor_up(self) -> None:
        self._move_to(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._move_to(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self._move_to(self.cursor_row - self.visible_rows)

    def action_page_down(self) -> None:
        self._move_to(self.cursor_row + self.visible_rows)

    def action_scroll_home(self) -> None:
        self._move_to(0)

    def action_scroll_end(self) -> None:
        self._move_to(len(self.rows) - 1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self._move_to(self.cursor_row - 1)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self._move_to(self.cursor_row + 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1:  # not the header
            self._move_to(self._top + offset.y - 1)
