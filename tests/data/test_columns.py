"""Guessing the text, pair and label columns (names first), and the one label rule."""

from __future__ import annotations

import pytest

from workbench.core.data.labels import guess_columns, infer_label_values, infer_labels
from workbench.core.data.loading import open_dataset
from workbench.core.errors import WorkbenchError

PREMISE = "The cabinet met on Tuesday to discuss the budget that the finance ministry had sent to parliament."


def write_rte(path):
    """RTE-like: an index, a long premise, a short hypothesis, string labels."""
    rows = ["index\tsentence1\tsentence2\tlabel"]
    for i in range(6):
        label = "entailment" if i % 2 else "not_entailment"
        rows.append(f"{i}\t{PREMISE} Item {i}.\tThe cabinet met.\t{label}")
    path.write_text("\n".join(rows) + "\n")
    return path


def write_stsb(path):
    """STS-B-like: genre codes, sentence1 shorter than sentence2, float scores."""
    rows = ["genre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore"]
    for i in range(6):
        rows.append(
            f"main-news\tnews\t2012\t{i}\tnone\tnone\tA man plays a guitar.\t"
            f"A man is playing a large acoustic guitar on a stage in front of people {i}.\t{i * 0.8:.1f}"
        )
    path.write_text("\n".join(rows) + "\n")
    return path


def test_rte_takes_the_short_hypothesis_as_the_pair(tmp_path):
    """The old heuristic wanted a pair at least half as long as the text: RTE lost its hypothesis."""
    guess = guess_columns(open_dataset(write_rte(tmp_path / "rte.tsv")).splits["train"])
    assert (guess.text, guess.pair, guess.label) == ("sentence1", "sentence2", "label")


def test_stsb_keeps_sentence1_as_the_text_even_when_shorter(tmp_path):
    """The old heuristic made the longer column the text: STS-B's sentences were swapped."""
    data = open_dataset(write_stsb(tmp_path / "stsb.tsv")).splits["train"]
    guess = guess_columns(data)
    assert (guess.text, guess.pair, guess.label) == ("sentence1", "sentence2", "score")
    assert infer_labels(data, "score").task == "regression"


def test_unknown_names_go_by_position_then_a_single_text(tmp_path):
    (tmp_path / "pairs.csv").write_text(
        "id,claim,evidence,label\n"
        + "".join(f"{i},Short claim number {i} here,The evidence is a long sentence {i} ok,yes\n" for i in range(4))
    )
    guess = guess_columns(open_dataset(tmp_path / "pairs.csv").splits["train"])
    assert (guess.text, guess.pair, guess.label) == ("claim", "evidence", "label")
    (tmp_path / "single.csv").write_text("code,text,label\n" + "".join(f"c{i},hi {i},pos\n" for i in range(4)))
    guess = guess_columns(open_dataset(tmp_path / "single.csv").splits["train"])
    assert (guess.text, guess.pair) == ("text", None)


@pytest.mark.parametrize(
    ("values", "task", "names"),
    [
        ([0, 1, 1, 2], "classification", ("0", "1", "2")),
        ([True, False], "classification", ("False", "True")),
        (["pos", "neg", "pos"], "classification", ("neg", "pos")),
        ([0.5, 2.4, 1.0], "regression", ()),
        ([1.0, 0.0], "regression", ()),  # floats mean regression even when whole
        ([-1, 0, 1], "regression", ()),  # a negative integer is a score, not a class id
        (list(range(0, 1500, 10)), "regression", ()),  # many different integers: a score
    ],
)
def test_one_label_rule(values, task, names):
    labels = infer_label_values(values)
    assert (labels.task, labels.names) == (task, names)
    assert labels.num_labels == (1 if task == "regression" else len(names))


def test_bad_labels_name_the_row():
    with pytest.raises(WorkbenchError, match=r"row 1 is empty"):
        infer_label_values(["a", None, "b"])
    with pytest.raises(WorkbenchError, match=r"mixes numbers and text: row 2 holds 'pos'"):
        infer_label_values(["0", "1", "pos", "1"])
