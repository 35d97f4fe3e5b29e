"""F1: the harmonic mean of precision and recall, 2 * TP / (2 * TP + FP + FN).

A local `evaluate` metric module shipped with workbench (loaded by path, so it works offline).
Same inputs and arguments as the canonical Hub module; computed with numpy alone.
"""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """F1: the harmonic mean of precision and recall, 2 * TP / (2 * TP + FP + FN)."""


class F1(evaluate.Metric):
    def _info(self):
        dtype = "int32"
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description="predictions and references: lists of int32 values of the same length",
            features=datasets.Features({"predictions": datasets.Value(dtype), "references": datasets.Value(dtype)}),
        )

    def _compute(self, predictions, references, labels=None, pos_label=1, average="binary", sample_weight=None):
        chosen = _labels(predictions, references, labels, pos_label, average)
        tp, predicted, actual = _per_class(predictions, references, chosen)
        scores = _divide(2 * tp, predicted + actual)
        combine = lambda tp, pred, act: _divide(2 * tp, pred + act)
        return {"f1": _average(scores, actual, tp, predicted, average, combine)}


def _per_class(predictions, references, labels):
    """True positives, predicted and actual counts for each label."""
    predictions, references = np.asarray(predictions), np.asarray(references)
    true_positive = np.array([np.sum((predictions == label) & (references == label)) for label in labels], float)
    predicted = np.array([np.sum(predictions == label) for label in labels], float)
    actual = np.array([np.sum(references == label) for label in labels], float)
    return true_positive, predicted, actual


def _divide(numerator, denominator):
    """Element-wise division with 0 where the denominator is 0 (scikit-learn zero_division=0)."""
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)


def _labels(predictions, references, labels, pos_label, average):
    if average == "binary":
        return [pos_label]
    if labels is not None:
        return list(labels)
    return sorted(set(np.asarray(references).tolist()) | set(np.asarray(predictions).tolist()))


def _average(scores, actual, true_positive, predicted, average, combine):
    if average == "micro":
        return float(combine(true_positive.sum(), predicted.sum(), actual.sum()))
    if average is None:
        return scores.tolist()
    if average == "weighted":
        return float(np.average(scores, weights=actual)) if actual.sum() else 0.0
    return float(scores.mean()) if len(scores) else 0.0  # "macro" and "binary"
