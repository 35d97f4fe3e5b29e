"""Matthews correlation coefficient: a balanced measure for binary and multi-class labels (-1 to 1).

A local `evaluate` metric module shipped with workbench (loaded by path, so it works offline).
Same inputs and arguments as the canonical Hub module; computed with numpy alone.
"""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """Matthews correlation coefficient: a balanced measure for binary and multi-class labels (-1 to 1)."""


class MatthewsCorrelation(evaluate.Metric):
    def _info(self):
        dtype = "int32"
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description="predictions and references: lists of int32 values of the same length",
            features=datasets.Features({"predictions": datasets.Value(dtype), "references": datasets.Value(dtype)}),
        )

    def _compute(self, predictions, references, sample_weight=None, average=None):
        predictions, references = np.asarray(predictions), np.asarray(references)
        labels = sorted(set(references.tolist()) | set(predictions.tolist()))
        index = {label: position for position, label in enumerate(labels)}
        confusion = np.zeros((len(labels), len(labels)), float)
        for reference, prediction in zip(references.tolist(), predictions.tolist()):
            confusion[index[reference], index[prediction]] += 1
        actual, predicted = confusion.sum(axis=1), confusion.sum(axis=0)
        correct, total = np.trace(confusion), confusion.sum()
        covariance = correct * total - np.dot(predicted, actual)
        denominator = np.sqrt((total**2 - np.dot(predicted, predicted)) * (total**2 - np.dot(actual, actual)))
        return {"matthews_correlation": float(covariance / denominator) if denominator else 0.0}
