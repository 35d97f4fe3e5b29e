"""Search and filter over a whole split, in batches, stoppable."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.data.search import iter_filter, iter_search
from workbench.core.errors import WorkbenchError


@pytest.fixture
def rows():
    import datasets

    texts = [f"row {i} {'needle' if i % 7 == 0 else 'hay'}" for i in range(100)]
    notes = ["Needle here" if i == 50 else "" for i in range(100)]
    data = datasets.Dataset.from_dict(
        {"text": texts, "note": notes, "n": list(range(100)), "score": [i / 10 for i in range(100)]}
    )
    return data.cast_column("n", datasets.Value("int32"))


def matches(progress) -> list[int]:
    return np.concatenate([step.matches for step in progress]).tolist()


def test_substring_search_over_all_text_columns(rows):
    found = matches(iter_search(rows, "needle", batch_rows=16))
    assert found == sorted(set(range(0, 100, 7)) | {50})
    assert matches(iter_search(rows, "needle", columns=["note"])) == [50]
    assert matches(iter_search(rows, "Needle", columns=["text"], ignore_case=False)) == []


def test_regex_search_and_a_bad_regex(rows):
    assert matches(iter_search(rows, r"^row 9\d ", regex=True)) == list(range(90, 100))
    with pytest.raises(WorkbenchError, match="Invalid regular expression"):
        list(iter_search(rows, "(unclosed", regex=True))


def test_progress_arrives_in_batches_and_stopping_is_allowed(rows):
    progress = iter_search(rows, "row", batch_rows=10)
    first = next(progress)
    assert (first.done, first.total) == (10, 100)
    assert first.matches.tolist() == list(range(10))
    progress.close()  # what a cancelled worker does: stop iterating


@pytest.mark.parametrize(
    ("column", "operator", "value", "expected"),
    [
        ("n", ">=", "97", [97, 98, 99]),
        ("n", "==", "3", [3]),
        ("score", "<", "0.25", [0, 1, 2]),
        ("text", "ends with", "needle", list(range(0, 100, 7))),
        ("text", "starts with", "row 1", [1] + list(range(10, 20))),
        ("note", "is not empty", "", [50]),
        ("text", "length >", "10", [i for i in range(100) if len(f"row {i} {'needle' if i % 7 == 0 else 'hay'}") > 10]),
        ("text", "regex", r"row [12]\b", [1, 2]),
    ],
)
def test_filters(rows, column, operator, value, expected):
    assert matches(iter_filter(rows, column, operator, value, batch_rows=32)) == expected


def test_filter_values_are_checked_against_the_column_type(rows):
    with pytest.raises(WorkbenchError, match=r"'n' needs an integer; 'ten' is not one"):
        list(iter_filter(rows, "n", ">", "ten"))
    with pytest.raises(WorkbenchError, match="'contains' needs a text column"):
        list(iter_filter(rows, "n", "contains", "1"))


def test_filter_on_class_label_names():
    import datasets

    data = datasets.Dataset.from_dict({"label": [0, 1, 1, 0]}).cast_column(
        "label", datasets.ClassLabel(names=["neg", "pos"])
    )
    assert matches(iter_filter(data, "label", "==", "pos")) == [1, 2]
    with pytest.raises(WorkbenchError, match="'meh' is not a class of 'label'"):
        list(iter_filter(data, "label", "==", "meh"))
