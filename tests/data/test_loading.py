"""Loading local files, folders and caches into memory-mapped Arrow, with exact row counts."""

from __future__ import annotations

import json

import pytest

from tests.data.conftest import line_count
from workbench.core.data.files import guess_split, guess_splits
from workbench.core.data.loading import list_cache, open_dataset
from workbench.core.errors import HubOfflineError


def test_mrpc_row_counts_match_the_files_lines(mrpc_dir):
    opened = open_dataset(mrpc_dir)
    assert list(opened.splits) == ["train", "validation"]
    # One row per line after the header: unbalanced quotes must neither merge nor drop rows.
    assert opened.num_rows("train") == line_count(mrpc_dir / "train.tsv") - 1
    assert opened.num_rows("validation") == line_count(mrpc_dir / "dev.tsv") - 1 == 408
    train = opened.splits["train"]
    assert train.column_names == ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]  # BOM stripped
    assert train.cache_files, "rows must be memory-mapped from Arrow files"


def test_mrpc_keeps_quotes_inside_fields(mrpc_dir):
    validation = open_dataset(mrpc_dir / "dev.tsv").splits["validation"]
    assert validation[0]["#2 String"].startswith('" The foodservice pie business')
    last_line = (mrpc_dir / "dev.tsv").read_text(encoding="utf-8-sig").rstrip("\n").split("\n")[-1]
    assert validation[-1]["#2 String"] == last_line.split("\t")[4]


def test_tsv_with_unbalanced_quotes(fixtures):
    opened = open_dataset(fixtures / "quotes.tsv")
    data = opened.splits["train"]
    assert data.num_rows == line_count(fixtures / "quotes.tsv") - 1 == 4
    assert data["sentence"][0] == 'He said " hello to me'
    assert data["score"][3] == 4.75


def test_csv_with_quoted_commas_and_doubled_quotes(fixtures):
    opened = open_dataset(fixtures / "reviews")
    assert {name: opened.num_rows(name) for name in opened.splits} == {"train": 12, "validation": 4, "test": 2}
    train = opened.splits["train"]
    assert train[0]["text"] == "A gentle, funny film; the cast is superb."
    assert train[2]["text"] == 'He said "wow" twice, and so did I.'


def test_splits_are_guessed_from_names_and_can_be_overridden(fixtures, tmp_path):
    assert guess_split("dev.tsv") == "validation"
    assert guess_split("my-train-00001.parquet") == "train"
    assert guess_split("notes.csv") is None
    files = [tmp_path / name for name in ("test.csv", "train-00000.csv", "train-00001.csv", "dev.csv", "extra.csv")]
    guessed = guess_splits(files)
    assert list(guessed) == ["train", "validation", "test", "extra"]
    assert [p.name for p in guessed["train"]] == ["train-00000.csv", "train-00001.csv"]

    reviews = fixtures / "reviews"
    opened = open_dataset(
        reviews, {"train": [reviews / "train.csv", reviews / "validation.csv"], "holdout": [reviews / "test.csv"]}
    )
    assert {name: opened.num_rows(name) for name in opened.splits} == {"train": 16, "holdout": 2}


def test_json_lines_json_array_text_parquet_arrow_and_saved(tmp_path):
    rows = [{"text": f"sentence {i}", "label": i % 3, "tags": ["a"] * i} for i in range(7)]
    (tmp_path / "data.jsonl").write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    (tmp_path / "array.json").write_text(json.dumps(rows))
    (tmp_path / "lines.txt").write_text("first line\n\nthird line\r\nfourth\n")
    assert open_dataset(tmp_path / "data.jsonl").num_rows("train") == 7
    assert open_dataset(tmp_path / "array.json").splits["train"]["tags"][3] == ["a", "a", "a"]
    text = open_dataset(tmp_path / "lines.txt").splits["train"]
    assert text["text"] == ["first line", "", "third line", "fourth"]

    import datasets

    dataset = datasets.Dataset.from_list(rows).cast_column("label", datasets.ClassLabel(names=["x", "y", "z"]))
    dataset.to_parquet(str(tmp_path / "rows.parquet"))
    assert open_dataset(tmp_path / "rows.parquet").num_rows("train") == 7

    saved = tmp_path / "saved"
    datasets.DatasetDict({"train": dataset, "test": dataset.select(range(2))}).save_to_disk(str(saved))
    opened = open_dataset(saved)
    assert opened.kind == "saved"
    assert {name: opened.num_rows(name) for name in opened.splits} == {"train": 7, "test": 2}
    assert opened.splits["train"].features["label"].names == ["x", "y", "z"]

    arrow_file = next(saved.glob("train/*.arrow"))
    assert open_dataset(arrow_file).num_rows("train") == 7


def test_the_datasets_cache_is_listed_and_opened(fixtures, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path))
    open_dataset(fixtures / "reviews")
    entries = list_cache()
    assert len(entries) == 1 and entries[0].splits == ("test", "train", "validation")
    assert entries[0].name.startswith("csv")
    reopened = open_dataset(entries[0].folder)
    assert reopened.kind == "cache"
    assert {name: reopened.num_rows(name) for name in reopened.splits} == {"train": 12, "validation": 4, "test": 2}


def test_a_hub_id_fails_at_once_when_offline():
    with pytest.raises(HubOfflineError, match="someone/some-dataset"):
        open_dataset("someone/some-dataset")
