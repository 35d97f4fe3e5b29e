"""Pearson correlation coefficient between predictions and references (-1 to 1).

A local `evaluate` metric module shipped with workbench (loaded by path, so it works offline).
Same inputs and arguments as the canonical Hub module; computed with numpy alone.
"""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """Pearson correlation coefficient between predictions and references (-1 to 1)."""


class Pearsonr(evaluate.Metric):
    def _info(self):
        dtype = "float32"
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description="predictions and references: lists of float32 values of the same length",
            features=datasets.Features({"predictions": datasets.Value(dtype), "references": datasets.Value(dtype)}),
        )

    def _compute(self, predictions, references, return_pvalue=False):
        x, y = np.asarray(predictions, float), np.asarray(references, float)
        x, y = x - x.mean(), y - y.mean()
        denominator = np.sqrt((x * x).sum() * (y * y).sum())
        return {"pearsonr": float((x * y).sum() / denominator) if denominator else 0.0}
