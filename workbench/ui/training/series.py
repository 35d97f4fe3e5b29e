"""Append-only x/y series that draw in time proportional to the chart width, not the point count.

Points are kept raw and also folded into min/max buckets of `bucket_size` consecutive points
(the size doubles whenever there are more than MAX_BUCKETS), so a chart of 100,000 loss points
reads a few hundred buckets: still several per braille dot column of a wide chart. Spikes survive: a bucket keeps its min and its max.
No textual import here: the model is unit-tested and benchmarked on its own.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

MAX_BUCKETS = 512
# Below this many raw points in the visible range, read the raw points directly.
RAW_LIMIT = 4096


@dataclass(slots=True)
class Column:
    """What one chart column (one braille dot wide) holds."""

    low: float
    high: float
    first: float
    last: float


class Series:
    def __init__(self) -> None:
        # Arrays, not lists: the garbage collector does not walk their items, so 100k points cost no GC pauses.
        self.xs = array("d")
        self.ys = array("d")
        self.bucket_size = 8
        # Each bucket: [x_first, y_min, y_max, y_first, y_last]; only full buckets are kept.
        self._buckets: list[list[float]] = []
        self._partial: list[float] | None = None
        self._partial_count = 0

    def __len__(self) -> int:
        return len(self.xs)

    @property
    def last(self) -> tuple[float, float] | None:
        return (self.xs[-1], self.ys[-1]) if self.xs else None

    def append(self, x: float, y: float) -> None:
        self.xs.append(x)
        self.ys.append(y)
        finite = math.isfinite(y)  # non-finite points are counted but never drawn (alerts show them)
        partial = self._partial
        if partial is None:
            partial = self._partial = [x, math.inf, -math.inf, math.nan, math.nan]
            self._partial_count = 0
        if finite:
            if y < partial[1]:
                partial[1] = y
            if y > partial[2]:
                partial[2] = y
            if partial[3] != partial[3]:  # first finite value
                partial[3] = y
            partial[4] = y
        self._partial_count += 1
        if self._partial_count >= self.bucket_size:
            self._buckets.append(partial)
            self._partial = None
            self._partial_count = 0
            if len(self._buckets) > MAX_BUCKETS:
                self._merge_buckets()

    def extend(self, points) -> None:
        for x, y in points:
            self.append(x, y)

    def _merge_buckets(self) -> None:
        merged = []
        buckets = self._buckets
        for index in range(0, len(buckets) - 1, 2):
            a, b = buckets[index], buckets[index + 1]
            merged.append([a[0], min(a[1], b[1]), max(a[2], b[2]), _first(a[3], b[3]), _first(b[4], a[4])])
        if len(buckets) % 2:
            # An odd bucket out becomes the start of the new partial bucket.
            odd = buckets[-1]
            if self._partial is not None:
                p = self._partial
                self._partial = [odd[0], min(odd[1], p[1]), max(odd[2], p[2]), _first(odd[3], p[3]), _first(p[4], odd[4])]
            else:
                self._partial = list(odd)
            self._partial_count += self.bucket_size
        self._buckets = merged
        self.bucket_size *= 2

    def truncate_after(self, x: float) -> None:
        """Drop points past `x` (a resumed run repeats the steps after its checkpoint)."""
        keep = bisect_right(self.xs, x)
        if keep == len(self.xs):
            return
        xs, ys = self.xs[:keep], self.ys[:keep]
        self.__init__()
        for point in zip(xs, ys):
            self.append(*point)

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
        if stop - start <= RAW_LIMIT or len(self._buckets) < 2:
            items = self._raw_items(start, stop)
        else:
            items = self._bucket_items(start // self.bucket_size, stop)
        isfinite = math.isfinite
        for x, low, high, first, last in items:
            if x < x0:
                continue
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

    def _raw_items(self, start: int, stop: int):
        for x, y in zip(self.xs[start:stop], self.ys[start:stop]):
            yield x, y, y, y, y

    def _bucket_items(self, first_bucket: int, stop: int):
        size = self.bucket_size
        last_bucket = min(len(self._buckets), stop // size)
        yield from self._buckets[first_bucket:last_bucket]
        # The points after the last full bucket in range, raw.
        yield from self._raw_items(last_bucket * size, stop)


def _first(a: float, b: float) -> float:
    """`a` unless it is NaN (a bucket with no finite value yet)."""
    return b if a != a else a


def ema_values(ys: list[float], weight: float, start_state: tuple[float, int] = (0.0, 0)):
    """TensorBoard-style debiased exponential moving average; non-finite values are skipped."""
    last, count = start_state
    out = []
    for y in ys:
        if not math.isfinite(y):
            out.append(math.nan)
            continue
        count += 1
        last = last * weight + (1 - weight) * y
        out.append(last / (1 - weight**count) if weight < 1 else y)
    return out, (last, count)


class SmoothedSeries:
    """A raw series and its EMA, kept in step; changing the weight recomputes the EMA once."""

    def __init__(self, weight: float = 0.9) -> None:
        self.raw = Series()
        self.smooth = Series()
        self.weight = weight
        self._state: tuple[float, int] = (0.0, 0)

    def append(self, x: float, y: float) -> None:
        self.raw.append(x, y)
        (value,), self._state = ema_values([y], self.weight, self._state)
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
        values, self._state = ema_values(self.raw.ys, self.weight)
        self.smooth = Series()
        for point in zip(self.raw.xs, values):
            self.smooth.append(*point)

    def __len__(self) -> int:
        return len(self.raw)
