"""The typed dataset selection that replaces the `active_dataset` dict."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from workbench.core.data.selection import DatasetSelection

INFO = {
    "path": "/data/rte",
    "name": "rte",
    "splits": {"train": {"rows": 3}, "validation": {"rows": 2}},
    "text_column": "sentence1",
    "text_pair_column": "sentence2",
    "label_column": "label",
    "label_names": ["entailment", "not_entailment"],
    "task": "classification",
}


def test_from_info_reads_like_the_old_dict_and_round_trips():
    selection = DatasetSelection.from_info(INFO, {"train": ["/data/rte/train.tsv"]})
    assert selection.split == "train" and selection.splits == ("train", "validation")
    assert selection.num_rows == {"train": 3, "validation": 2}
    assert selection.guessed == ("text", "pair", "label")
    # Code that still reads the dict keys keeps working.
    assert selection.get("text_pair_column") == "sentence2" and selection["label_names"] == INFO["label_names"]
    assert selection["train_file"] == "/data/rte/train.tsv" and selection.get("validation_file") is None
    assert selection.get("num_labels", 7) == 7 and selection.get("no such key") is None
    with pytest.raises(KeyError):
        selection["no such key"]
    data = selection.to_dict()
    json.dumps(data)
    assert DatasetSelection.from_dict(data) == selection


def test_columns_chosen_by_the_user_are_no_longer_guessed():
    selection = replace(DatasetSelection.from_info(INFO), prepared=True, num_labels=2, max_length=64)
    chosen = selection.with_columns("sentence2", "sentence1", "label")
    assert chosen.num_labels is None and chosen.max_length is None
    assert chosen.text_column == "sentence2" and chosen.text_pair_column == "sentence1"
    assert chosen.guessed == ("label",) and not chosen.prepared
