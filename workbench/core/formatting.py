"""Short, stable text for numbers, durations and sizes (shared by the runs list, monitor and benchmarks)."""

from __future__ import annotations

import math
import re
import time

# Colour and cursor escape sequences (progress bars, coloured warnings, transformers' bold load report).
TERMINAL_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")


def without_escapes(text: str) -> str:
    """`text` without terminal escape sequences: a log quoted in an event, a report or a widget."""
    return TERMINAL_ESCAPES.sub("", text)


def duration(seconds: float | None) -> str:
    """`42s`, `4m12s`, `3h05m`, `2d04h`; an em dash when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = int(max(0, seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def number(value: float | None, digits: int = 4) -> str:
    """Compact significant-digit form: 0.6931, 2.1e-05, 1.23k, nan."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1e5:
        for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
            if magnitude >= size:
                return f"{value / size:.3g}{unit}"
    if magnitude < 1e-3:
        return f"{value:.{max(digits - 2, 1)}e}".replace("e-0", "e-")
    return f"{value:.{digits}g}"


def human_size(size: float) -> str:
    """Bytes for people: `512 B`, `86.7 MB`, `1.2 GB` (files, datasets, uploads)."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def mebibytes(value_mb: float | None) -> str:
    if value_mb is None:
        return "—"
    if value_mb >= 1024:
        return f"{value_mb / 1024:.1f} GiB"
    return f"{value_mb:.0f} MiB"


def clock_time(timestamp: float | None) -> str:
    """Local date and time of a Unix timestamp, minute precision."""
    if timestamp is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values, width: int, low: float | None = None, high: float | None = None) -> str:
    """The last `width` values as block characters (scaled to [low, high] or their own range)."""
    values = [v for v in list(values)[-width:] if v is not None and math.isfinite(v)]
    if not values:
        return ""
    low = min(values) if low is None else low
    high = max(values) if high is None else high
    span = (high - low) or 1.0
    top = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[min(top, max(0, int((v - low) / span * top + 0.5)))] for v in values)
