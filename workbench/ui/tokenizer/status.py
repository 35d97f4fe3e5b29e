"""The Tokenizer pane's status row: one line of styled text, cut with an ellipsis when too long.

It is repainted on every keystroke. A Static lays its Content out again on each repaint (wrapping,
alignment, overflow); this turns the Content into one strip once per update and reuses it.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine { height: 1; }
    """

    def __init__(self, content: Content | str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._content = Content(content) if isinstance(content, str) else content
        self._strip: Strip | None = None  # the whole line, before cutting to the width
        self._base_style: Style | None = None

    def update(self, content: Content | str) -> None:
        self._content = Content(content) if isinstance(content, str) else content
        self._strip = None
        self.refresh()

    def render(self) -> Content:
        """The text (for tests and copying); drawing goes through render_line."""
        return self._content

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base_style = None
        self._strip = None

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if self._base_style is None:
            self._base_style = self.rich_style
        base = self._base_style
        if y != 0:
            return Strip.blank(width, base)
        if self._strip is None:
            segments = self._content.render_segments()
            self._strip = Strip([Segment(text, base + style if style else base) for text, style, _ in segments])
        strip = self._strip
        if strip.cell_length > width:
            strip = Strip.join([strip.crop(0, max(width - 1, 0)), Strip([Segment("…", base)])])
        return strip
