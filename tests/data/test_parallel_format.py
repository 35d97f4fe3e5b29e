"""Parallel text in the Datasets pane's reader: train.en beside train.de is one row per line."""

from __future__ import annotations

import pytest

from workbench.core.data.loading import open_dataset
from workbench.core.errors import WorkbenchError


def test_a_parallel_pair_opens_as_a_column_per_language(tmp_path):
    (tmp_path / "train.en").write_text("A dog runs.\nTwo cats sleep.\n", encoding="utf-8")
    (tmp_path / "train.de").write_text("Ein Hund rennt.\nZwei Katzen schlafen.\n", encoding="utf-8")
    opened = open_dataset(tmp_path / "train.de")
    assert opened.fmt == "parallel"
    rows = opened.splits["train"]
    assert sorted(rows.column_names) == ["de", "en"]
    assert rows[1] == {"en": "Two cats sleep.", "de": "Zwei Katzen schlafen."} or rows[1] == {
        "de": "Zwei Katzen schlafen.",
        "en": "Two cats sleep.",
    }


def test_files_that_part_are_refused_naming_the_line(tmp_path):
    (tmp_path / "val.en").write_text("one\ntwo\nthree\n", encoding="utf-8")
    (tmp_path / "val.de").write_text("eins\nzwei\n", encoding="utf-8")
    with pytest.raises(WorkbenchError, match="line 3 of val.en has no partner in val.de"):
        open_dataset(tmp_path / "val.en")


def test_an_ordinary_text_file_is_not_taken_for_half_a_pair(tmp_path):
    (tmp_path / "notes.txt").write_text("just text\n", encoding="utf-8")
    assert open_dataset(tmp_path / "notes.txt").fmt == "text"
