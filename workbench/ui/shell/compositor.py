"""A compositor that redraws only the widgets that show through the parts of the screen being updated.

Textual's compositor answers a partial update (a keystroke's echo, a token row, a loss point) by
drawing every widget that overlaps the rectangle around all the updated regions: the screen, each
container down to the widget, and every neighbour in between. A keystroke in the Tokenizer pane
repaints three widgets and had about thirty drawn, half of its frame time.

Each widget's lines are complete (its background already blended with its ancestors'), and for
every cell of the screen the front-most widget's line wins. So a widget whose visible part over the
updated lines is entirely behind widgets in front of it cannot change the output: this compositor
skips those, walking the widgets front to back until the updated lines are covered. The output is
identical (`tests/shell/test_compositor.py` renders both ways and compares); what changes is the work.

It builds on private parts of Textual 8's `Compositor`: `render_partial_update`, `_render_chops`
(which renders the lines), `_get_renders` (which it calls for the widgets overlapping the crop),
`_regions_to_spans` and `visible_widgets` (front to back). `covering_compositor()` gives Textual's
own compositor when their parameters differ from those it was written against, and a frame whose
widgets cannot be worked out draws every widget, as Textual would.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable

from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

Row = list[tuple[int, int]]  # the uncovered [start, end) column ranges of one line


class CoveringCompositor(Compositor):
    """Draws, for each update, only the widgets visible through the lines being updated."""

    def __init__(self) -> None:
        super().__init__()
        self._showing: list[tuple[Widget, Region, Region]] | None = None
        self._updated_spans: list[tuple[int, int, int]] | None = None

    def render_partial_update(self):
        # The spans the update will write (Textual computes them too, then renders the whole crop).
        self._updated_spans = list(self._regions_to_spans(self._dirty_regions))
        try:
            return super().render_partial_update()
        finally:
            self._updated_spans = None

    def _render_chops(self, crop: Region, is_rendered_line: Callable[[int], bool]):
        try:
            self._showing = self._widgets_showing_through(crop, is_rendered_line, self._updated_spans)
        except Exception:  # noqa: BLE001 - a frame must never fail on an optimisation: draw it all
            self._showing = None
        try:
            return super()._render_chops(crop, is_rendered_line)
        finally:
            self._showing = None

    def _widgets_showing_through(
        self,
        crop: Region,
        is_rendered_line: Callable[[int], bool],
        spans: list[tuple[int, int, int]] | None = None,
    ) -> list[tuple[Widget, Region, Region]]:
        """Widgets (front to back) with some part not hidden by the widgets in front of them, over
        the updated spans, or (without spans) over the crop's columns of the lines being rendered."""
        crop_x, crop_y, crop_width, crop_height = crop
        uncovered: dict[int, Row] = {}
        if spans is not None:
            for y, start, end in spans:
                uncovered.setdefault(y, []).append((start, end))
        else:
            for y in range(crop_y, crop_y + crop_height):
                if is_rendered_line(y):
                    uncovered[y] = [(crop_x, crop_x + crop_width)]
        showing: list[tuple[Widget, Region, Region]] = []
        intersection = Region.intersection
        for widget, (region, clip) in self.visible_widgets.items():
            if not uncovered:
                break  # every updated cell is drawn by a widget in front of the rest
            x, y, width, height = intersection(intersection(region, clip), crop)
            if not (width and height):
                continue
            if _cover(uncovered, x, x + width, y, y + height):
                showing.append((widget, region, clip))
        return showing

    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        showing = self._showing
        if showing is None:
            yield from super()._get_renders(crop)
            return
        # As Textual's own _get_renders, over the widgets that show through.
        for widget, region, clip in showing:
            if clip.contains_region(region):
                yield region, clip, widget.render_lines(Region(0, 0, region.width, region.height))
            else:
                new_x, new_y, new_width, new_height = region.intersection(clip)
                if new_width and new_height:
                    yield (
                        region,
                        clip,
                        widget.render_lines(Region(new_x - region.x, new_y - region.y, new_width, new_height)),
                    )


def _cover(uncovered: dict[int, Row], left: int, right: int, top: int, bottom: int) -> bool:
    """Remove columns [left, right) of lines [top, bottom) from `uncovered`; True if any were uncovered."""
    found = False
    for y in range(top, bottom):
        row = uncovered.get(y)
        if row is None:
            continue
        kept: Row = []
        for start, end in row:
            if end <= left or start >= right:
                kept.append((start, end))
                continue
            found = True
            if start < left:
                kept.append((start, left))
            if end > right:
                kept.append((right, end))
        if kept:
            uncovered[y] = kept
        else:
            del uncovered[y]
    return found


# The private parts of Textual's Compositor this builds on, with the parameters it expects.
_BUILDS_ON = {
    "render_partial_update": ["self"],
    "_render_chops": ["self", "crop", "is_rendered_line"],
    "_get_renders": ["self", "crop"],
    "_regions_to_spans": ["cls", "regions"],
}


def _textual_matches() -> bool:
    for name, parameters in _BUILDS_ON.items():
        method = getattr(Compositor, name, None)
        try:
            found = list(inspect.signature(inspect.unwrap(getattr(method, "__func__", method))).parameters)
        except (TypeError, ValueError):
            return False
        if found != parameters:
            return False
    return hasattr(Compositor, "visible_widgets") and hasattr(Compositor(), "_dirty_regions")


def covering_compositor() -> Compositor:
    """A CoveringCompositor, or Textual's own if this Textual's compositor is not the one it was
    written against (a changed private method would otherwise break every frame)."""
    return CoveringCompositor() if _textual_matches() else Compositor()
