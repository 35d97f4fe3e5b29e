"""The shipped metric modules load by path through `evaluate` (no network) and agree with scikit-learn."""

from __future__ import annotations

import random

import pytest

from workbench.core.tasks.metric_set import METRICS_DIR, MetricSet, metric_path
from workbench.training.spec import METRICS


@pytest.fixture(scope="module")
def labels():
    rng = random.Random(3)
    references = [rng.randrange(3) for _ in range(200)]
    predictions = [r if rng.random() < 0.7 else rng.randrange(3) for r in references]
    return predictions, references


def test_every_spec_metric_ships_as_a_module():
    assert sorted(p.stem for p in METRICS_DIR.glob("*.py")) == sorted(METRICS)
    with pytest.raises(ValueError, match="no local metric"):
        metric_path("bleu")


def test_binary_metrics_match_scikit_learn(labels):
    from sklearn import metrics as sk

    predictions, references = ([min(v, 1) for v in values] for values in labels)
    result = MetricSet(["accuracy", "f1", "precision", "recall", "matthews_correlation"], num_labels=2).compute(
        predictions, references
    )
    assert result["accuracy"] == pytest.approx(sk.accuracy_score(references, predictions))
    assert result["f1"] == pytest.approx(sk.f1_score(references, predictions))
    assert result["precision"] == pytest.approx(sk.precision_score(references, predictions))
    assert result["recall"] == pytest.approx(sk.recall_score(references, predictions))
    assert result["matthews_correlation"] == pytest.approx(sk.matthews_corrcoef(references, predictions))


def test_multiclass_metrics_are_macro_averaged(labels):
    from sklearn import metrics as sk

    predictions, references = labels
    result = MetricSet(["f1", "precision", "recall", "matthews_correlation"], num_labels=3).compute(
        predictions, references
    )
    assert result["f1"] == pytest.approx(sk.f1_score(references, predictions, average="macro"))
    assert result["precision"] == pytest.approx(sk.precision_score(references, predictions, average="macro"))
    assert result["recall"] == pytest.approx(sk.recall_score(references, predictions, average="macro"))
    assert result["matthews_correlation"] == pytest.approx(sk.matthews_corrcoef(references, predictions))


def test_regression_metrics_match_scipy():
    from scipy import stats

    rng = random.Random(5)
    references = [round(rng.uniform(0, 5), 1) for _ in range(100)]  # rounded: ties in the ranks
    predictions = [r + rng.gauss(0, 1) for r in references]
    metric_set = MetricSet(["accuracy", "pearsonr", "spearmanr"], num_labels=1)
    assert metric_set.names == ["pearsonr", "spearmanr"]  # accuracy makes no sense for regression
    result = metric_set.compute(predictions, references)
    assert result["pearsonr"] == pytest.approx(stats.pearsonr(predictions, references)[0])
    assert result["spearmanr"] == pytest.approx(stats.spearmanr(predictions, references)[0])
