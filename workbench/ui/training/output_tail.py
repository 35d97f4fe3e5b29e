"""The tail of a run's output (stdout.log) in a box that never changes size.

A `Log` grows its virtual size with each line (up to its line limit) and with each longer line, and
each growth re-lays out the whole screen; it also starts a thread per write to measure the lines.
This keeps the last MAX_LINES lines and draws the ones that fit: new output costs one repaint.
It follows the newest line until the user scrolls up; `end` follows again. Lines wider than the
box end in "…" (the whole line is in stdout.log).
"""

from __future__ import annotations

import re
from collections import deque

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.strip import Strip
from textual.widget import Widget

from workbench.core.formatting import without_escapes

MAX_LINES = 1000
# Escape sequences are dropped; other control characters would break the terminal's layout, so they
# show as U+FFFD.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_line(line: str) -> str:
    return _CONTROLS.sub("\ufffd", without_escapes(line).expandtabs())


class OutputTail(Widget, can_focus=True):
    DEFAULT_CSS = """
    OutputTail { background: $surface; color: $foreground; }
    OutputTail:focus { background-tint: $foreground 5%; }
    """

    BINDINGS = [
        Binding("up", "scroll_up", "Scroll up", show=False, id="output_tail.up", tooltip="An earlier line of output"),
        Binding(
            "down", "scroll_down", "Scroll down", show=False, id="output_tail.down", tooltip="A later line of output"
        ),
        Binding(
            "pageup", "page_up", "Page up", show=False, id="output_tail.page_up", tooltip="A page of earlier output"
        ),
        Binding(
            "pagedown",
            "page_down",
            "Page down",
            show=False,
            id="output_tail.page_down",
            tooltip="A page of later output",
        ),
        Binding("home", "scroll_home", "Home", show=False, id="output_tail.first", tooltip="The oldest line kept"),
        Binding(
            "end", "scroll_end", "End", show=False, id="output_tail.last", tooltip="The newest output; follow new lines"
        ),
    ]

    def __init__(self, max_lines: int = MAX_LINES, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: deque[str] = deque(maxlen=max_lines)
        self.following = True
        self._top = 0  # first line shown
        self._style: Style | None = None

    @property
    def visible_lines(self) -> int:
        return max(1, self.content_size.height)

    def write_lines(self, lines) -> None:
        new = [clean_line(line) for line in lines]
        if not new:
            return
        dropped = max(0, len(self.lines) + len(new) - (self.lines.maxlen or 0)) if self.lines.maxlen else 0
        self.lines.extend(new)
        if not self.following:
            self._top = max(0, self._top - dropped)  # the oldest lines fell off: keep the same ones in view
        self._changed()

    def clear(self) -> None:
        self.lines.clear()
        self.following = True
        self._top = 0
        self._changed()

    def _changed(self) -> None:
        last_top = max(0, len(self.lines) - self.visible_lines)
        self._top = last_top if self.following else min(self._top, last_top)
        newer = len(self.lines) - (self._top + self.visible_lines)
        subtitle = f"{newer:,} newer lines · end: follow" if not self.following and newer > 0 else ""
        if subtitle != (self.border_subtitle or ""):
            self.border_subtitle = subtitle
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._changed()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style = None

    def render_line(self, y: int) -> Strip:
        if self._style is None:
            self._style = self.rich_style
        width = self.content_size.width
        index = self._top + y
        if index >= len(self.lines):
            return Strip.blank(width, self._style)
        text = self.lines[index]
        if cell_len(text) > width:
            text = set_cell_size(text, max(0, width - 1)) + "…"
        return Strip([Segment(text, self._style)]).crop_extend(0, width, self._style)

    # -- keys and mouse --------------------------------------------------------------
    def show_from(self, top: int) -> None:
        """Show the kept lines from index `top` (clamped); showing the last ones follows new output.

        (Named apart from Widget._scroll_to, which Textual's own scroll_* methods call with their
        keyword arguments: an override with another signature crashed `scroll_end()`.)"""
        last_top = max(0, len(self.lines) - self.visible_lines)
        self._top = max(0, min(last_top, top))
        self.following = self._top == last_top
        self._changed()

    def action_scroll_up(self) -> None:
        self.show_from(self._top - 1)

    def action_scroll_down(self) -> None:
        self.show_from(self._top + 1)

    def action_page_up(self) -> None:
        self.show_from(self._top - self.visible_lines)

    def action_page_down(self) -> None:
        self.show_from(self._top + self.visible_lines)

    def scroll_home(self, **_options) -> None:  # type: ignore[override]
        """Widget.scroll_home for this box: the oldest line kept (the scroll options do not apply)."""
        self.show_from(0)

    def scroll_end(self, **_options) -> None:  # type: ignore[override]
        """Widget.scroll_end for this box: the newest line, following new output again."""
        self.show_from(len(self.lines))

    def action_scroll_home(self) -> None:
        self.show_from(0)

    def action_scroll_end(self) -> None:
        self.show_from(len(self.lines))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.show_from(self._top - 3)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.show_from(self._top + 3)
