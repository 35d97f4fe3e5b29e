"""Append-only x/y series that draw in time proportional to the chart width, not the point count.

Points are kept raw and also folded into a pyramid of min/max buckets: level 0 holds buckets of
BASE_BUCKET consecutive points, each level above merges pairs of the one below (16, 32, 64, ...
points). Drawing W columns reads, from the level whose buckets are 2-4 to a column, about 2-4 W
items, whatever the number of points or the zoom: 100,000 loss points draw as fast as 1,000, and
"the last 1,000 steps" of them keep full detail. Spikes survive: a bucket keeps its min and its max.
Appending is O(1) amortised (a quarter of a merge a point). Everything lives in `array`s, which the
garbage collector never walks. No textual import here: the model is unit-tested on its own.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

BASE_BUCKET = 8  # points in a level-0 bucket
# Read raw points while there are fewer than this many per column; buckets above it.
RAW_PER_COLUMN = 8
_INF = math.inf


@dataclass(slots=True)
class Column:
    """What one chart column (one braille dot wide) holds."""

    low: float
    high: float
    first: float
    last: float


class _Level:
    """Full buckets of one size: first x, min y, max y, first finite y, last finite y (NaN: none)."""

    __slots__ = ("x", "low", "high", "first", "last")

    def __init__(self) -> None:
        self.x = array("d")
        self.low = array("d")
        self.high = array("d")
        self.first = array("d")
        self.last = array("d")

    def __len__(self) -> int:
        return len(self.x)

    def append(self, x: float, low: float, high: float, first: float, last: float) -> None:
        self.x.append(x)
        self.low.append(low)
        self.high.append(high)
        self.first.append(first)
        self.last.append(last)

    def merged_pairs(self) -> _Level:
        """The level above: buckets 0+1, 2+3, ... (an odd last one waits for its twin)."""
        above = _Level()
        even = slice(0, len(self.x) - 1, 2)
        odd = slice(1, len(self.x), 2)
        above.x = self.x[even]
        above.low = array("d", map(min, self.low[even], self.low[odd]))
        above.high = array("d", map(max, self.high[even], self.high[odd]))
        above.first = array("d", [a if a == a else b for a, b in zip(self.first[even], self.first[odd])])
        above.last = array("d", [b if b == b else a for a, b in zip(self.last[even], self.last[odd])])
        return above

    def item(self, index: int) -> tuple[float, float, float, float, float]:
        return self.x[index], self.low[index], self.high[index], self.first[index], self.last[index]


class Series:
    def __init__(self) -> None:
        self.xs = array("d")
        self.ys = array("d")
        self._levels: list[_Level] = []
        # The level-0 bucket being filled.
        self._count = 0
        self._x = 0.0
        self._low = _INF
        self._high = -_INF
        self._first = math.nan
        self._last = math.nan

    def __len__(self) -> int:
        return len(self.xs)

    @property
    def last(self) -> tuple[float, float] | None:
        return (self.xs[-1], self.ys[-1]) if self.xs else None

    def append(self, x: float, y: float) -> None:
        self.xs.append(x)
        self.ys.append(y)
        if self._count == 0:
            self._x = x
        self._count += 1
        if y - y == 0.0:  # finite; non-finite points are counted but never drawn (alerts show them)
            if y < self._low:
                self._low = y
            if y > self._high:
                self._high = y
            if self._first != self._first:
                self._first = y
            self._last = y
        if self._count == BASE_BUCKET:
            self._push(0, self._x, self._low, self._high, self._first, self._last)
            self._count, self._low, self._high, self._first, self._last = 0, _INF, -_INF, math.nan, math.nan

    def extend(self, points) -> None:
        for x, y in points:
            self.append(x, y)

    def extend_arrays(self, xs, ys) -> None:
        """Append many points at once. Into an empty series (a rebuild after a smoothing change or a
        resume), the pyramid is built level by level from slices, mostly in C loops."""
        if self.xs:
            for x, y in zip(xs, ys):
                self.append(x, y)
            return
        count = len(xs)
        aligned = count // BASE_BUCKET * BASE_BUCKET
        self.xs.extend(xs[:aligned])
        self.ys.extend(ys[:aligned])
        level = _Level()
        for start in range(0, aligned, BASE_BUCKET):
            low, high, first, last = _fold(ys[start : start + BASE_BUCKET])
            level.append(xs[start], low, high, first, last)
        while len(level):
            self._levels.append(level)
            level = level.merged_pairs()
        for index in range(aligned, count):  # the bucket being filled (fewer points than a bucket)
            self.append(xs[index], ys[index])

    def _push(self, level: int, x: float, low: float, high: float, first: float, last: float) -> None:
        """Add a full bucket to `level`; every second one merges with its twin into the level above."""
        levels = self._levels
        while True:
            if level == len(levels):
                levels.append(_Level())
            bucket = levels[level]
            bucket.append(x, low, high, first, last)
            count = len(bucket)
            if count % 2:
                return
            twin = count - 2
            x = bucket.x[twin]
            low = min(bucket.low[twin], low)
            high = max(bucket.high[twin], high)
            twin_first = bucket.first[twin]
            first = first if twin_first != twin_first else twin_first
            last = bucket.last[twin] if last != last else last
            level += 1

    def truncate_after(self, x: float) -> None:
        """Drop points past `x` (a resumed run repeats the steps after its checkpoint)."""
        keep = bisect_right(self.xs, x)
        if keep == len(self.xs):
            return
        xs, ys = self.xs[:keep], self.ys[:keep]
        self.__init__()
        self.extend_arrays(xs, ys)

    def x_range(self) -> tuple[float, float] | None:
        return (self.xs[0], self.xs[-1]) if self.xs else None

    def columns(self, x0: float, x1: float, width: int, transform=None) -> list[Column | None]:
        """Fold the points with x in [x0, x1] into `width` columns (None where a column is empty)."""
        out: list[Column | None] = [None] * width
        if not self.xs or width <= 0:
            return out
        span = (x1 - x0) or 1.0
        scale = (width - 1) / span
        start = bisect_left(self.xs, x0)
        stop = bisect_right(self.xs, x1)
        isfinite = math.isfinite
        for x, low, high, first, last in self.items(start, stop, width):
            if transform is not None:
                low, high, first, last = transform(low), transform(high), transform(first), transform(last)
                if low != low:
                    low = high  # e.g. log scale of a bucket that touches zero
            if not (isfinite(low) and isfinite(high)):
                continue  # an empty bucket, or a value the transform cannot show
            index = int((x - x0) * scale + 0.5)
            column = out[index]
            if column is None:
                out[index] = Column(low, high, low if first != first else first, high if last != last else last)
            else:
                if low < column.low:
                    column.low = low
                if high > column.high:
                    column.high = high
                if last == last:
                    column.last = last
        return out

    def items(self, start: int, stop: int, width: int):
        """(x, low, high, first, last) covering points [start, stop): raw points, or buckets of the
        level with 2-4 of them a column, and smaller ones (then raw points) at the ragged ends."""
        per_column = (stop - start) / max(1, width)
        if per_column < RAW_PER_COLUMN or not self._levels:
            return self._raw_items(start, stop)
        top = min(len(self._levels) - 1, max(0, int(math.log2(per_column / 2 / BASE_BUCKET))))
        return self._bucket_items(start, stop, top)

    def _raw_items(self, start: int, stop: int):
        for x, y in zip(self.xs[start:stop], self.ys[start:stop]):
            yield x, y, y, y, y

    def _bucket_items(self, start: int, stop: int, top: int):
        levels = self._levels
        index = start
        while index < stop:
            # The biggest bucket (at most level `top`) that starts here and ends by `stop`.
            level, size = -1, BASE_BUCKET
            while level < top and index % size == 0 and index + size <= stop:
                level += 1
                size *= 2
            if level < 0:
                x, y = self.xs[index], self.ys[index]
                yield x, y, y, y, y
                index += 1
                continue
            size //= 2
            bucket = levels[level]
            if level == top:
                # The long middle run: every full top-level bucket that fits, in one go.
                first_bucket = index // size
                last_bucket = min(len(bucket), stop // size)
                yield from zip(
                    bucket.x[first_bucket:last_bucket],
                    bucket.low[first_bucket:last_bucket],
                    bucket.high[first_bucket:last_bucket],
                    bucket.first[first_bucket:last_bucket],
                    bucket.last[first_bucket:last_bucket],
                )
                index = last_bucket * size
            else:
                yield bucket.item(index // size)
                index += size


def _fold(ys) -> tuple[float, float, float, float]:
    """min, max, first and last of the finite values (inf, -inf, NaN, NaN when there are none)."""
    total = sum(ys)
    if total - total != 0.0:  # a NaN or an infinity inside (or an overflow): keep the finite ones
        ys = [y for y in ys if y - y == 0.0]
        if not ys:
            return _INF, -_INF, math.nan, math.nan
    return min(ys), max(ys), ys[0], ys[-1]


def ema_values(ys, weight: float, start_state: tuple[float, int] = (0.0, 0)):
    """TensorBoard-style debiased exponential moving average; non-finite values are skipped."""
    last, count = start_state
    out: list[float] = []
    append = out.append
    nan = math.nan
    if weight >= 1:
        return [y if y - y == 0.0 else nan for y in ys], (last, count)
    keep = 1 - weight
    decay = weight**count  # weight ** (finite values so far), for the debiasing
    for y in ys:
        if y - y != 0.0:  # NaN or infinite
            append(nan)
            continue
        count += 1
        last = last * weight + keep * y
        decay *= weight
        append(last / (1 - decay))
    return out, (last, count)


class SmoothedSeries:
    """A raw series and its EMA, kept in step; changing the weight recomputes the EMA once."""

    def __init__(self, weight: float = 0.9) -> None:
        self.raw = Series()
        self.smooth = Series()
        self.weight = weight
        self._last = 0.0  # the EMA state: biased average, finite values seen, weight ** that count
        self._count = 0
        self._decay = 1.0

    def append(self, x: float, y: float) -> None:
        self.raw.append(x, y)
        if y - y == 0.0:
            weight = self.weight
            self._count += 1
            self._last = self._last * weight + (1 - weight) * y
            self._decay *= weight
            value = self._last / (1 - self._decay) if weight < 1 else y
        else:
            value = math.nan
        self.smooth.append(x, value)

    def set_weight(self, weight: float) -> None:
        weight = min(max(weight, 0.0), 0.999)
        if weight == self.weight:
            return
        self.weight = weight
        self._recompute()

    def truncate_after(self, x: float) -> None:
        self.raw.truncate_after(x)
        self._recompute()

    def _recompute(self) -> None:
        values, (self._last, self._count) = ema_values(self.raw.ys, self.weight)
        self._decay = self.weight**self._count
        self.smooth = Series()
        self.smooth.extend_arrays(self.raw.xs, values)

    def __len__(self) -> int:
        return len(self.raw)
