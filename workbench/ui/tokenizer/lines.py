"""A scrolling view of pre-wrapped lines that draws only the rows on screen (the Line API).

A Static would lay out and render every line of the token view on each keystroke; this
draws the twenty-odd visible ones, so a keystroke costs the same at 200 or 20,000 characters.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

parse_style = Style.parse  # cached by Rich


class TokenLines(ScrollView, can_focus=True):
    class Resized(Message):
        """The width changed: the owner re-wraps the lines."""

    DEFAULT_CSS = """
    TokenLines { height: 1fr; padding: 0 1; overflow-x: hidden; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[list[tuple[str, str]]] = []
        self._strips: dict[int, Strip] = {}
        self._last_width: int | None = None
        self._base_style: Style | None = None  # the widget's own style, computed once per theme/CSS change

    @property
    def plain(self) -> str:
        """All lines as text (for tests and copying)."""
        return "\n".join("".join(text for text, _ in row) for row in self._lines)

    def set_lines(self, rows: list[list[tuple[str, str]]]) -> None:
        """Rows of (text, style) pieces, already wrapped to this view's width.

        Only rows on screen that changed are repainted: typing usually changes a row or two, and
        repainting the whole view makes Textual redraw every row it spans, the widgets beside it too.
        """
        old, self._lines = self._lines, rows
        top = self.scroll_offset.y
        bottom = top + self.scrollable_content_region.height
        kept = {index: strip for index, strip in self._strips.items() if top <= index < bottom}
        # Just the text columns: refresh_line's full width takes in the scrollbar, which then redraws too.
        width = self.scrollable_content_region.width
        self._strips = {}
        for index in range(top, bottom):
            new_row = rows[index] if index < len(rows) else None
            old_row = old[index] if index < len(old) else None
            if new_row == old_row:
                if index in kept:
                    self._strips[index] = kept[index]
            else:
                self.refresh(Region(0, index - top, width, 1))
        if len(rows) != len(old):
            self._set_row_count(len(rows))

    def _set_row_count(self, rows: int) -> None:
        size = Size(self.scrollable_content_region.width, rows)
        if (rows > self.container_size.height) != self.show_vertical_scrollbar:
            self.virtual_size = size  # the scrollbar comes or goes: the text gets narrower, a layout is due
            return
        # Same geometry: only the scroll range and the scrollbar's thumb change. Assigning
        # virtual_size would re-lay out the whole screen (tens of ms) on each keystroke that adds a row.
        self.set_reactive(TokenLines.virtual_size, size)
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.window_virtual_size = rows
        if self.scroll_y > self.max_scroll_y:
            self.scroll_to(y=self.max_scroll_y, animate=False)

    def show_row(self, row: int) -> None:
        """Scroll, without animation, so that `row` is on screen; if it is, nothing moves."""
        height = self.scrollable_content_region.height
        top = self.scroll_offset.y
        if not top <= row < top + height:
            self.scroll_to(y=max(0, row - height // 3), animate=False)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base_style = None
        self._strips.clear()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._last_width:
            self._last_width = event.size.width
            self.post_message(self.Resized())

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self._base_style
        if style is None:
            style = self._base_style = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, style)
        strip = self._strips.get(index)
        if strip is None:
            # Piece styles are plain "bold #rrggbb on #rrggbb" strings: Rich parses them (cached)
            # several times faster than going through a Content per row.
            strip = Strip(
                [
                    Segment(text, style + parse_style(piece_style) if piece_style else style)
                    for text, piece_style in self._lines[index]
                ]
            )
            self._strips[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, style)
