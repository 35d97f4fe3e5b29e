"""core.evaluation.analysis against scikit-learn, and the text it writes for the card."""

from __future__ import annotations

import math
import random

import pyarrow as pa
import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.evaluation import analysis

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def predictions(gold, predicted, *, score=None, loss=None, ids=None) -> pa.Table:
    count = len(gold)
    return pa.table(
        {
            "id": list(range(count)) if ids is None else ids,
            "input": [f"text {index}" for index in range(count)],
            "gold": list(gold),
            "predicted": list(predicted),
            "score": score if score is not None else [0.5] * count,
            "loss": loss if loss is not None else [0.1] * count,
        }
    )


def random_table(count: int, labels: list[str], seed: int) -> pa.Table:
    rng = random.Random(seed)
    gold = [rng.choice(labels) for _ in range(count)]
    predicted = [value if rng.random() < 0.6 else rng.choice(labels) for value in gold]
    return predictions(
        gold,
        predicted,
        score=[rng.random() for _ in range(count)],
        loss=[rng.random() * 3 for _ in range(count)],
    )


@pytest.mark.parametrize("labels", [["neg", "pos"], ["a", "b", "c", "d", "e"], ["0", "1", "2", "10"]])
def test_confusion_matrix_and_scores_match_scikit_learn(labels):
    table = random_table(500, labels, seed=len(labels))
    gold = table.column("gold").to_pylist()
    predicted = table.column("predicted").to_pylist()
    matrix = analysis.confusion_matrix(table)
    assert sorted(matrix.labels) == sorted(labels)
    expected = sklearn_metrics.confusion_matrix(gold, predicted, labels=matrix.labels)
    assert matrix.counts.tolist() == expected.tolist()
    normalised = sklearn_metrics.confusion_matrix(gold, predicted, labels=matrix.labels, normalize="true")
    assert matrix.normalised == pytest.approx(normalised)
    precision, recall, f1, support = sklearn_metrics.precision_recall_fscore_support(
        gold, predicted, labels=matrix.labels, zero_division=0
    )
    scores = analysis.per_class_scores(table)
    assert [score.label for score in scores] == matrix.labels
    assert [score.precision for score in scores] == pytest.approx(precision.tolist())
    assert [score.recall for score in scores] == pytest.approx(recall.tolist())
    assert [score.f1 for score in scores] == pytest.approx(f1.tolist())
    assert [score.support for score in scores] == support.tolist()
    assert matrix.accuracy == pytest.approx(sklearn_metrics.accuracy_score(gold, predicted))


def test_numeric_labels_in_number_order_and_given_order_first():
    table = predictions(["10", "2", "1"], ["2", "2", "10"])
    assert analysis.confusion_matrix(table).labels == ["1", "2", "10"]
    fixed = analysis.confusion_matrix(table, labels=["10", "2", "1", "never"])
    assert fixed.labels == ["10", "2", "1", "never"]
    assert fixed.counts[3].tolist() == [0, 0, 0, 0]
    assert fixed.normalised[3].tolist() == [0.0, 0.0, 0.0, 0.0]  # a class with no examples: 0, not NaN
    never = analysis.per_class_scores(fixed)[3]
    assert (never.precision, never.recall, never.f1, never.support) == (0.0, 0.0, 0.0, 0)


def test_confusion_matrix_refuses_regression_and_missing_columns():
    with pytest.raises(WorkbenchError, match="regression"):
        analysis.confusion_matrix(predictions(["0.5", "3.25"], ["0.4", "3.0"]))
    with pytest.raises(WorkbenchError, match="'predicted'") as caught:
        analysis.confusion_matrix(pa.table({"id": [0], "gold": ["a"]}))
    assert "Columns: id, gold" in caught.value.hint


def test_worst_examples_sort_and_filter():
    table = predictions(
        ["a", "a", "b", "b", "a"],
        ["a", "b", "b", "a", "b"],
        score=[0.9, 0.6, 0.99, 0.51, 0.7],
        loss=[0.1, 0.9, 0.01, 0.7, float("nan")],
    )
    by_loss = analysis.worst_examples(table, by="loss")
    assert by_loss.column("row").to_pylist() == [1, 3, 0, 2, 4]  # NaN last
    assert by_loss.column("id").to_pylist() == [1, 3, 0, 2, 4]
    by_score = analysis.worst_examples(table, by="score", limit=2)
    assert by_score.column("row").to_pylist() == [3, 1]  # the least confident first
    confident = analysis.worst_examples(table, by="score", descending=True, wrong_only=True)
    assert confident.column("row").to_pylist() == [4, 1, 3]
    assert analysis.worst_examples(table, gold="a", predicted="b").column("row").to_pylist() == [1, 4]
    assert analysis.worst_examples(table, gold="zzz").num_rows == 0
    with pytest.raises(WorkbenchError, match="cannot sort"):
        analysis.worst_examples(table, by="bleu")


def test_flips_by_id_both_ways():
    a = predictions(["x", "y", "x", "y", "x"], ["x", "y", "y", "x", "x"], ids=[10, 11, 12, 13, 14])
    # B in another order, missing id 14, with an extra id 15
    b = predictions(["y", "x", "y", "x", "x"], ["x", "x", "x", "y", "x"], ids=[13, 12, 11, 10, 15])
    result = analysis.flips(a, b)
    assert result.compared == 4
    assert result.fixed.column("id").to_pylist() == [12]  # a wrong -> b right
    assert result.broken.column("id").to_pylist() == [10, 11]  # a right -> b wrong
    assert result.fixed.column("predicted_a").to_pylist() == ["y"]
    assert result.fixed.column("predicted_b").to_pylist() == ["x"]
    assert {"gold", "input", "score_a", "score_b", "loss_a", "loss_b"} <= set(result.fixed.column_names)
    assert (result.correct_a, result.correct_b) == (2, 1)
    assert result.only_a == [14] and result.only_b == [15]
    assert result.count == 3


def test_flips_refuse_different_gold_and_regression():
    a = predictions(["x", "y"], ["x", "y"])
    b = predictions(["x", "x"], ["x", "y"])
    with pytest.raises(WorkbenchError, match="example 1 has gold 'y' for A and 'x' for B"):
        analysis.flips(a, b)
    with pytest.raises(WorkbenchError, match="regression"):
        analysis.flips(predictions(["0.5"], ["0.1"]), predictions(["0.5"], ["0.2"]))


def test_correct_uses_a_tasks_own_column_and_list_values():
    table = pa.table({"id": [0, 1], "gold": [["B-PER"], ["O"]], "predicted": [["B-PER"], ["B-LOC"]]})
    assert analysis.correct(table).tolist() == [True, False]
    assert analysis.correct(table.append_column("correct", pa.array([False, True]))).tolist() == [False, True]


def test_text_renderings():
    table = predictions(["neg", "neg", "pos", "pos", "pos"], ["neg", "pos", "pos", "pos", "neg"])
    matrix = analysis.confusion_matrix(table)
    text = analysis.confusion_matrix_text(matrix)
    lines = text.splitlines()
    assert lines[0].split() == ["gold", "\\", "predicted", "neg", "pos"]
    assert lines[1].split() == ["neg", "1", "1"]
    assert lines[2].split() == ["pos", "1", "2"]
    assert len({len(line) for line in lines[1:]}) == 1  # aligned
    rates = analysis.confusion_matrix_text(matrix, normalised=True).splitlines()
    assert rates[2].split() == ["pos", "0.33", "0.67"]
    card = analysis.per_class_table_markdown(analysis.per_class_scores(matrix))
    assert card.splitlines()[2] == "| neg | 0.5000 | 0.5000 | 0.5000 | 2 |"
    metrics = analysis.evaluation_table_markdown({"eval_loss": 0.51234567, "accuracy": 0.6, "steps": 3})
    assert metrics.splitlines() == [
        "| Metric | Value |",
        "|---|---:|",
        "| loss | 0.5123 |",
        "| accuracy | 0.6000 |",
        "| steps | 3 |",
    ]
    assert analysis.evaluation_table_markdown({}) == ""
    assert analysis.format_metric(math.nan) == "nan"


def test_read_predictions_names_the_file(tmp_path):
    import pyarrow.parquet as pq

    with pytest.raises(WorkbenchError, match="no such predictions file"):
        analysis.read_predictions(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet", encoding="utf-8")
    with pytest.raises(WorkbenchError, match="bad.parquet: not a predictions file"):
        analysis.read_predictions(bad)
    good = tmp_path / "good.parquet"
    pq.write_table(predictions(["a"], ["b"]), good)
    assert analysis.read_predictions(good).column("gold").to_pylist() == ["a"]
