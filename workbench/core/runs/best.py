"""The one rule for "best": which way a metric improves, and the best of several values.

Chosen rule (it merges three that disagreed): a metric whose name contains "loss", "perplexity",
"error", "mse", "mae" or "rmse" is better lower; every other metric (accuracy, f1, matthews, pearson,
spearman, ...) is better higher. Values that are not finite numbers never win. The metric a run is judged
by is `training.metric_for_best_model`, else the first of `training.metrics` that was measured, else
eval_loss ("loss" means eval_loss).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

LOWER_IS_BETTER_WORDS = ("loss", "perplexity", "error", "mse", "mae", "rmse")


def lower_is_better(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in LOWER_IS_BETTER_WORDS)


def as_number(value: object) -> float | None:
    """A finite float from a metric value (also "0.5" or the strict-JSON strings), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def is_better(name: str, value: float, best: float | None) -> bool:
    """Whether `value` beats `best` for metric `name` (anything finite beats None)."""
    if not math.isfinite(value):
        return False
    if best is None or not math.isfinite(best):
        return True
    return value < best if lower_is_better(name) else value > best


def best_of(name: str, points: Iterable[tuple[float, float]]) -> tuple[float, float] | None:
    """The best (value, x) of (x, value) points for metric `name`; None when no value is finite."""
    best: tuple[float, float] | None = None
    for x, value in points:
        if is_better(name, value, best[0] if best else None):
            best = (value, x)
    return best


def metric_for_best(spec: Mapping, metrics: Mapping) -> str | None:
    """The name of the metric that judges a run, among `metrics` (one evaluation's); None if absent."""
    training = spec.get("training") if isinstance(spec, Mapping) else None
    training = training if isinstance(training, Mapping) else {}
    names = training.get("metrics") if isinstance(training.get("metrics"), list) else []
    chosen = training.get("metric_for_best_model")
    name = chosen if isinstance(chosen, str) and chosen else next((n for n in names if n in metrics), "eval_loss")
    name = "eval_loss" if name == "loss" else name
    return name if name in metrics else None


def better_evaluation(best: tuple[str, float] | None, metrics: Mapping, spec: Mapping) -> tuple[str, float] | None:
    """The run's best (metric, value) after one more evaluation's `metrics`."""
    name = metric_for_best(spec, metrics)
    value = as_number(metrics.get(name)) if name else None
    if name is None or value is None:
        return best
    if best is None or best[0] != name or is_better(name, value, best[1]):
        return (name, value)
    return best
