"""Keeping the garbage collector's full collections out of frames.

A full (generation 2) collection walks every tracked object: with the app up, 100,000-300,000
of them (widgets, modules, what importing transformers left), a 100-600 ms pause that lands in a
frame or a keystroke. Frozen objects are skipped, and still freed by reference counting when
dropped. The cost, bounded: garbage waiting at the moment of a freeze, and objects alive then that
later die in a reference cycle, are never reclaimed.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager


def freeze_long_lived_objects(*, collect_first: bool = False) -> None:
    """Take what is alive now out of the collector's full walks (after a collection, if asked:
    for a moment when much short-lived garbage is known to be waiting)."""
    if collect_first:
        gc.collect()
    gc.freeze()


@contextmanager
def automatic_gc_paused():
    """No automatic collections while a worker builds long-lived data (a run's history): the
    allocations trigger full collections, and one runs in the worker's thread holding the GIL for a
    few hundred ms, stalling the UI mid-frame. What was made is frozen before collections resume,
    or the first allocation after would start that same collection (the counts kept growing while
    they were off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
