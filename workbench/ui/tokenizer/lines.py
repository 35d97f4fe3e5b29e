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
        """The lines were wrapped to another width than the view has now: the owner re-wraps them."""

    DEFAULT_CSS = """
    TokenLines { height: 1fr; padding: 0 1; overflow-x: hidden; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[list[tuple[str, str]]] = []
        self._strips: dict[int, Strip] = {}
        self._wrapped_for: int | None = None  # the wrap width of the lines shown; None: wrapped while hidden
        self._base_style: Style | None = None  # the widget's own style, computed once per theme/CSS change

    @property
    def plain(self) -> str:
        """All lines as text (for tests and copying)."""
        return "\n".join("".join(text for text, _ in row) for row in self._lines)

    @property
    def wrap_width(self) -> int:
        """The width to wrap lines to: the text columns, less one (at least 40, also while hidden)."""
        return max(self.scrollable_content_region.width - 1, 40)

    def set_lines(self, rows: list[list[tuple[str, str]]]) -> None:
        """Rows of (text, style) pieces, already wrapped to `wrap_width`.

        Only rows on screen that changed are repainted: typing usually changes a row or two, and
        repainting the whole view makes Textual redraw every row it spans, the widgets beside it too.
        """
        old, self._lines = self._lines, rows
        # A hidden view (its pane not laid out yet) has no width: the fallback's lines are re-wrapped on Show.
        self._wrapped_for = self.wrap_width if self.scrollable_content_region.width else None
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
        self._check_wrap()

    def on_show(self, event: events.Show) -> None:
        # Shown again at the same size there is no Resize: lines set while hidden would keep the fallback width.
        self._check_wrap()

    def _check_wrap(self) -> None:
        """Ask the owner to wrap again when the lines were wrapped to another width than the view has now."""
        if self.scrollable_content_region.width and self.wrap_width != self._wrapped_for:
            self._wrapped_for = self.wrap_width  # asked once per width; set_lines records what it got
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
