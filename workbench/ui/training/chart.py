"""A braille line chart: several traces, min/max envelopes per column, log scale, last-N zoom.

Drawn by hand rather than with plotext: each frame reads at most a thousand buckets per trace
(see `series.Series.columns`), so 100,000 points draw as fast as 100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from workbench.core.formatting import number
from workbench.core.runs.series import Series

# Braille dot bits by (row, column) inside one 2x4 cell.
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
GUTTER = 8

# Colour roles a trace can take; each is a component class styled by the theme.
TRACE_STYLES = ("raw", "smooth", "c1", "c2", "c3", "c4", "c5", "c6")


@dataclass
class Trace:
    label: str
    series: Series
    style: str = "c1"  # one of TRACE_STYLES


def _log10(value: float) -> float:
    return math.log10(value) if value > 0 else math.nan


class LineChart(Widget):
    COMPONENT_CLASSES = {"chart--axis", "chart--empty", *(f"chart--{name}" for name in TRACE_STYLES)}
    DEFAULT_CSS = """
    LineChart { height: 1fr; min-height: 5; padding: 0 1 0 0; }
    LineChart > .chart--axis { color: $text-muted; }
    LineChart > .chart--empty { color: $text-muted; text-style: italic; }
    LineChart > .chart--raw { color: $loss-line 55%; }
    LineChart > .chart--smooth { color: $loss-smooth; text-style: bold; }
    LineChart > .chart--c1 { color: $secondary; }
    LineChart > .chart--c2 { color: $success; }
    LineChart > .chart--c3 { color: $accent; }
    LineChart > .chart--c4 { color: $error; }
    LineChart > .chart--c5 { color: $primary; }
    LineChart > .chart--c6 { color: $warning; }
    """

    log_scale: reactive[bool] = reactive(False)
    last_n: reactive[int] = reactive(0)  # 0: the whole x range

    def __init__(self, empty_text: str = "no data yet", *, x_label: str = "step", **kwargs) -> None:
        super().__init__(**kwargs)
        self.empty_text = empty_text
        self.x_label = x_label
        self.traces: list[Trace] = []
        self.legend_extra = ""
        self._version = 0
        self._signature: tuple | None = None
        self._cache_key: tuple | None = None
        self._cache: list[Strip] = []
        self._blank = Strip.blank(0)

    def set_traces(self, traces: list[Trace], legend_extra: str = "") -> None:
        signature = (
            tuple((trace.label, trace.style, id(trace.series), len(trace.series)) for trace in traces),
            legend_extra,
        )
        if signature == self._signature:
            return  # nothing new to draw
        self._signature = signature
        self.traces = traces
        self.legend_extra = legend_extra
        self._version += 1
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.content_size.width, self.content_size.height
        key = (self._version, width, height, self.log_scale, self.last_n, self.app.theme)
        if key != self._cache_key:
            self._cache = self._render_strips(width, height)
            self._blank = Strip.blank(width, self.rich_style)
            self._cache_key = key
        # Reading styles (rich_style) costs more than the cached line: only on a cache miss.
        return self._cache[y] if y < len(self._cache) else self._blank

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._version += 1  # colours come from the CSS: redraw with the new ones

    def _render_strips(self, width: int, height: int) -> list[Strip]:
        base = self.rich_style
        rows = self._rows(width, height)
        return [
            Strip([Segment(text, base + style if style is not None else base) for text, style in row]).crop_extend(
                0, width, base
            )
            for row in rows
        ]

    def _rows(self, width: int, height: int) -> list[list[tuple[str, Style | None]]]:
        """The chart as rows of (text, style) runs: legend, plot rows with the y axis, x axis."""
        axis = self.get_component_rich_style("chart--axis")
        traces = [trace for trace in self.traces if len(trace.series)]
        legend = self._legend()
        if not traces or width < GUTTER + 4 or height < 3:
            return [legend, [(self.empty_text, self.get_component_rich_style("chart--empty"))]]
        plot_w, plot_h = width - GUTTER, height - 2
        ranges = [trace.series.x_range() for trace in traces]
        x0 = min(r[0] for r in ranges)
        x1 = max(r[1] for r in ranges)
        if self.last_n and x1 - x0 > self.last_n:
            x0 = x1 - self.last_n
        transform = _log10 if self.log_scale else None
        dots_w, dots_h = plot_w * 2, plot_h * 4
        columns = [trace.series.columns(x0, x1, dots_w, transform) for trace in traces]
        lows = [c.low for cols in columns for c in cols if c is not None]
        highs = [c.high for cols in columns for c in cols if c is not None]
        if not lows:
            return [legend, [("no finite values to draw", self.get_component_rich_style("chart--empty"))]]
        y0, y1 = min(lows), max(highs)
        if y1 - y0 < 1e-12:
            pad = abs(y0) * 0.05 or 0.5
            y0, y1 = y0 - pad, y1 + pad
        bits = [0] * (plot_w * plot_h)
        owner = [0] * (plot_w * plot_h)
        scale = (dots_h - 1) / (y1 - y0)
        last_row = dots_h - 1

        def row_of(value: float) -> int:
            row = int((y1 - value) * scale + 0.5)
            return 0 if row < 0 else (last_row if row > last_row else row)

        for trace_index, cols in enumerate(columns):

            def plot(dx: int, dy: int) -> None:
                cell = (dy >> 2) * plot_w + (dx >> 1)
                bits[cell] |= _DOTS[dy & 3][dx & 1]
                owner[cell] = trace_index

            previous: tuple[int, int] | None = None
            for dx, column in enumerate(cols):
                if column is None:
                    continue
                top, bottom = row_of(column.high), row_of(column.low)
                first_row = row_of(column.first)
                if previous is not None:
                    if dx - previous[0] == 1 and abs(first_row - previous[1]) <= 1:
                        pass  # adjacent dots touch already
                    else:
                        _line(previous[0], previous[1], dx, first_row, plot)
                cell_column = dx >> 1
                bit_column = dx & 1
                for dy in range(top, bottom + 1):
                    cell = (dy >> 2) * plot_w + cell_column
                    bits[cell] |= _DOTS[dy & 3][bit_column]
                    owner[cell] = trace_index
                previous = (dx, row_of(column.last))

        styles = [self.get_component_rich_style(f"chart--{trace.style}") for trace in traces]
        label_rows = {0: y1, plot_h - 1: y0}
        if plot_h >= 5:
            label_rows[(plot_h - 1) // 2] = (y0 + y1) / 2
        rows = [legend]
        for row in range(plot_h):
            value = label_rows.get(row)
            label = "" if value is None else number(10**value if self.log_scale else value, 3)
            runs: list[tuple[str, Style | None]] = [
                (f"{label:>{GUTTER - 1}}" + ("┤" if value is not None else "│"), axis)
            ]
            _append_cells(runs, bits, owner, row * plot_w, plot_w, styles)
            rows.append(runs)
        left, right = f"{self.x_label} {number(x0, 6)}", number(x1, 6)
        gap = max(1, plot_w - len(left) - len(right))
        rows.append([(" " * GUTTER + left + " " * gap + right, axis)])
        return rows

    def _legend(self) -> list[tuple[str, Style | None]]:
        runs: list[tuple[str, Style | None]] = []
        for trace in self.traces:
            runs.append(("━ ", self.get_component_rich_style(f"chart--{trace.style}")))
            runs.append((trace.label + "  ", None))
        flags = [
            flag
            for flag in (
                self.legend_extra,
                "log" if self.log_scale else "",
                f"last {self.last_n:,}" if self.last_n else "",
            )
            if flag
        ]
        if flags:
            runs.append((" · ".join(flags), self.get_component_rich_style("chart--axis")))
        return runs

    def watch_log_scale(self) -> None:
        self.refresh()

    def watch_last_n(self) -> None:
        self.refresh()


def _append_cells(runs: list, bits: list[int], owner: list[int], start: int, width: int, styles: list[Style]) -> None:
    """One row of braille cells, runs of one style joined together."""
    run: list[str] = []
    run_style: Style | None = None
    for cell in range(start, start + width):
        value = bits[cell]
        style = styles[owner[cell]] if value else None
        if style is not run_style and run:
            runs.append(("".join(run), run_style))
            run = []
        run_style = style
        run.append(chr(0x2800 + value) if value else " ")
    if run:
        runs.append(("".join(run), run_style))


def _line(x0: int, y0: int, x1: int, y1: int, plot) -> None:
    """Bresenham: the dots between two column points, so sparse series draw as lines."""
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    error = dx + dy
    while True:
        plot(x0, y0)
        if x0 == x1 and y0 == y1:
            return
        doubled = 2 * error
        if doubled >= dy:
            error += dy
            x0 += sx
        if doubled <= dx:
            error += dx
            y0 += sy
