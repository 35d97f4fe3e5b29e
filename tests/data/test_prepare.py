"""Prepare for a head: labels, validation split, cached batched tokenization, collator preview, code."""

from __future__ import annotations

import json

import pytest

from workbench.core.data.codegen import preparation_code
from workbench.core.data.labels import guess_columns, infer_labels
from workbench.core.data.loading import open_dataset
from workbench.core.data.prepare import PreparePlan, collator_preview, prepare, prepared_selection
from workbench.core.data.selection import DatasetSelection
from workbench.core.errors import WorkbenchError
from workbench.core.tokenizer.loader import load_hf_tokenizer as load_tokenizer
from workbench.core.tokenizer.loader import tokenizer_path as resolve_model_path


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("")


def test_guessing_columns_and_label_kinds(mrpc_dir, fixtures):
    mrpc = open_dataset(mrpc_dir / "dev.tsv").splits["validation"]
    guess = guess_columns(mrpc)
    assert (guess.text, guess.pair, guess.label) == ("#1 String", "#2 String", "Quality")
    assert infer_labels(mrpc, "Quality").names == ("0", "1")
    quotes = open_dataset(fixtures / "quotes.tsv").splits["train"]
    assert guess_columns(quotes).label == "score"
    labels = infer_labels(quotes, "score")
    assert (labels.task, labels.num_labels) == ("regression", 1)


def test_string_labels_become_a_class_label_and_validation_is_made(fixtures, tokenizer):
    opened = open_dataset(fixtures / "reviews")
    splits = {"train": opened.splits["train"], "test": opened.splits["test"]}
    prepared = prepare(
        splits, PreparePlan("text", None, "label", max_length=16, validation_fraction=0.25, seed=7), tokenizer
    )
    assert prepared.labels.names == ("neg", "pos") and prepared.labels.num_labels == 2
    assert prepared.validation_created
    assert {name: data.num_rows for name, data in prepared.splits.items()} == {"train": 9, "test": 2, "validation": 3}
    train = prepared.splits["train"]
    assert train.features["labels"].names == ["neg", "pos"]
    assert set(train.column_names) == {"labels", "input_ids", "token_type_ids", "attention_mask"}
    assert max(len(ids) for ids in train["input_ids"]) <= 16
    again = prepare(
        splits, PreparePlan("text", None, "label", max_length=16, validation_fraction=0.25, seed=7), tokenizer
    )
    assert again.splits["validation"]["input_ids"] == prepared.splits["validation"]["input_ids"]  # seeded
    selection = prepared_selection(DatasetSelection("reviews", guessed=("text", "label")), prepared)
    assert selection.label_names == ("neg", "pos") and selection.task == "classification"
    assert selection.prepared and selection.num_labels == 2 and selection.text_column == "text"
    assert selection.validation_split == {"from": "train", "fraction": 0.25, "seed": 7}
    info = selection.to_dict()  # the old dict form stays JSON-able, with list values
    assert info["label_names"] == ["neg", "pos"] and selection["splits"] == ["train", "test", "validation"]
    json.dumps(info)


def test_float_labels_mean_regression(fixtures, tokenizer):
    opened = open_dataset(fixtures / "quotes.tsv")
    prepared = prepare(opened.splits, PreparePlan("sentence", None, "score", validation_fraction=0.5), tokenizer)
    assert prepared.labels.task == "regression" and prepared.labels.num_labels == 1
    assert prepared.splits["train"].features["labels"].dtype == "float32"


def test_tokenization_reuses_the_datasets_cache(mrpc_dir, tokenizer):
    def open_dev():
        return open_dataset(mrpc_dir, {"train": [mrpc_dir / "dev.tsv"]})

    opened = open_dev()
    plan = PreparePlan("#1 String", "#2 String", "Quality", max_length=64)
    seen = []
    first = prepare(opened.splits, plan, tokenizer, lambda split, done, total: seen.append((split, done, total)))
    assert {split for split, _, _ in seen} == {"train", "validation"}
    assert seen[-1] == ("validation", 41, 41) and ("train", 367, 367) in seen  # 408 rows, 10% held out
    second = prepare(open_dev().splits, plan, tokenizer)
    assert all(second.reused_cache.values())
    assert second.splits["train"]["input_ids"][:5] == first.splits["train"]["input_ids"][:5]
    changed = prepare(opened.splits, PreparePlan("#1 String", "#2 String", "Quality", max_length=32), tokenizer)
    assert not any(changed.reused_cache.values())  # another max_length is another cache entry


def test_bad_plans_name_the_column(fixtures, tokenizer):
    splits = open_dataset(fixtures / "reviews").splits
    with pytest.raises(WorkbenchError, match="No text column 'body'"):
        prepare(splits, PreparePlan("body", None, "label"), tokenizer)
    with pytest.raises(WorkbenchError, match="mapped twice"):
        prepare(splits, PreparePlan("text", "text", "label"), tokenizer)


def test_collator_preview_pads_to_the_longest_row(fixtures, tokenizer):
    prepared = prepare(open_dataset(fixtures / "reviews").splits, PreparePlan("text", None, "label"), tokenizer)
    preview = collator_preview(prepared.splits["train"], tokenizer, rows=3)
    shape, dtype, values = preview.tensors["input_ids"]
    lengths = [len(ids) for ids in prepared.splits["train"]["input_ids"][:3]]
    assert shape == (3, max(lengths)) and dtype == "int64"
    assert preview.tensors["labels"][0] == (3,)
    assert preview.tensors["attention_mask"][2][0] == [1] * lengths[0] + [0] * (max(lengths) - lengths[0])
    assert preview.tokens[0][0] == "[CLS]" and preview.tokens[0][lengths[0] - 1] == "[SEP]"


def test_show_code_reproduces_the_preparation(fixtures, tokenizer, tmp_path, isolated_datasets_cache):
    opened = open_dataset(fixtures / "reviews")
    plan = PreparePlan("text", None, "label", max_length=16)
    prepared = prepare(opened.splits, plan, tokenizer)
    code = preparation_code(opened, plan, prepared.labels, resolve_model_path(""), preview_rows=3)
    namespace: dict = {}
    exec(compile(code, "show_code.py", "exec"), namespace)  # runs load_dataset, map and the collator
    assert namespace["tokenized"]["train"]["input_ids"] == prepared.splits["train"]["input_ids"]
    assert namespace["tokenized"]["train"]["labels"] == prepared.splits["train"]["labels"]
    assert tuple(namespace["batch"]["input_ids"].shape)[0] == 3
