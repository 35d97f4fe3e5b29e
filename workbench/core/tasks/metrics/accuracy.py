"""Accuracy: the fraction of predictions equal to their references.

A local `evaluate` metric module shipped with workbench (loaded by path, so it works offline).
Same inputs and arguments as the canonical Hub module; computed with numpy alone.
"""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """Accuracy: the fraction of predictions equal to their references."""


class Accuracy(evaluate.Metric):
    def _info(self):
        dtype = "int32"
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description="predictions and references: lists of int32 values of the same length",
            features=datasets.Features({"predictions": datasets.Value(dtype), "references": datasets.Value(dtype)}),
        )

    def _compute(self, predictions, references, normalize=True, sample_weight=None):
        correct = (np.asarray(predictions) == np.asarray(references)).astype(float)
        weights = np.ones_like(correct) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        total = float((correct * weights).sum())
        return {"accuracy": total / float(weights.sum()) if normalize else total}
