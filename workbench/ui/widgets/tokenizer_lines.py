"""A scrolling view of pre-wrapped lines that draws only the rows on screen (the Line API).

A Static would lay out and render every line of the token view on each keystroke; this
draws the twenty-odd visible ones, so a keystroke costs the same at 200 or 20,000 characters.
"""

from __future__ import annotations

from rich.segment import Segment
from textual import events
from textual.content import Content
from textual.message import Message
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class TokenLines(ScrollView, can_focus=True):
    class Resized(Message):
        """The width changed: the owner re-wraps the lines."""

    DEFAULT_CSS = """
    TokenLines { height: 1fr; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: list[list[tuple[str, str]]] = []
        self._strips: dict[int, Strip] = {}
        self._last_width: int | None = None

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
        self._strips = {}
        for index in range(top, bottom):
            new_row = rows[index] if index < len(rows) else None
            old_row = old[index] if index < len(old) else None
            if new_row == old_row:
                if index in kept:
                    self._strips[index] = kept[index]
            else:
                self.refresh_line(index)
        if len(rows) != len(old):
            self.virtual_size = Size(self.scrollable_content_region.width, len(rows))

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._last_width:
            self._last_width = event.size.width
            self.post_message(self.Resized())

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, style)
        strip = self._strips.get(index)
        if strip is None:
            row = self._lines[index]
            segments = Content.assemble(*((text, style) if style else text for text, style in row)).render_segments()
            strip = Strip([Segment(text, style + segment_style if segment_style else style) for text, segment_style, _ in segments])
            self._strips[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, style)
