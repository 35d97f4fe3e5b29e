"""Spearman rank correlation between predictions and references (-1 to 1); ties get average ranks.

A local `evaluate` metric module shipped with workbench (loaded by path, so it works offline).
Same inputs and arguments as the canonical Hub module; computed with numpy alone.
"""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """Spearman rank correlation between predictions and references (-1 to 1); ties get average ranks."""


class Spearmanr(evaluate.Metric):
    def _info(self):
        dtype = "float32"
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description="predictions and references: lists of float32 values of the same length",
            features=datasets.Features({"predictions": datasets.Value(dtype), "references": datasets.Value(dtype)}),
        )

    def _compute(self, predictions, references, return_pvalue=False):
        x, y = _ranks(predictions), _ranks(references)
        x, y = x - x.mean(), y - y.mean()
        denominator = np.sqrt((x * x).sum() * (y * y).sum())
        return {"spearmanr": float((x * y).sum() / denominator) if denominator else 0.0}


def _ranks(values):
    """1-based ranks with ties sharing their average rank (scipy.stats.rankdata "average")."""
    values = np.asarray(values, float)
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), float)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks
