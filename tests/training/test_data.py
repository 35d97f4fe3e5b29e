"""Loading run data: MRPC's quirky TSV, label kinds, file formats."""

from __future__ import annotations

import json

import pytest

from workbench.core.errors import WorkbenchError
from workbench.training import data as run_data
from workbench.training.spec import default_spec


def mrpc_data(mrpc_dir) -> dict:
    data = default_spec()["data"]
    data.update(
        train_file=str(mrpc_dir / "train.tsv"),
        validation_file=str(mrpc_dir / "dev.tsv"),
        text_column="#1 String",
        text_pair_column="#2 String",
        label_column="Quality",
    )
    return data


def data_rows(path) -> int:
    with open(path, "rb") as file:
        return file.read().count(b"\n") - 1  # minus the header


def test_mrpc_loads_every_row_and_strips_the_bom(mrpc_dir):
    raw = run_data.load_raw(mrpc_data(mrpc_dir))
    assert raw["train"].num_rows == data_rows(mrpc_dir / "train.tsv")
    assert raw["validation"].num_rows == data_rows(mrpc_dir / "dev.tsv") == 408
    assert raw["train"].column_names[0] == "Quality"
    # A field with unbalanced quotes stays one field and the rows stay apart.
    first = raw["train"][0]
    assert first["#1 String"].startswith("Amrozi accused his brother")
    assert first["#2 String"].startswith("Referring to him")
    assert set(raw["train"]["Quality"]) == {0, 1}


def test_mrpc_tokenizes_as_pairs(mrpc_dir, tiny_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    spec = default_spec()
    spec["data"] = mrpc_data(mrpc_dir)
    spec["data"]["max_train_samples"] = 50
    spec["data"]["max_length"] = 16
    prepared = run_data.prepare(spec, tokenizer)
    labels, train = prepared.labels, prepared.train
    assert labels.num_labels == 2 and not labels.regression
    assert train.num_rows == 50
    assert set(train.column_names) == {"input_ids", "token_type_ids", "attention_mask", "labels"}
    assert max(len(ids) for ids in train["input_ids"]) == 16
    assert 1 in train[0]["token_type_ids"]  # the second sentence is there


def test_string_labels_become_class_labels(tmp_path):
    (tmp_path / "t.jsonl").write_text(
        "".join(
            json.dumps({"text": t, "label": label}) + "\n" for t, label in [("a", "pos"), ("b", "neg"), ("c", "pos")]
        )
    )
    (tmp_path / "v.jsonl").write_text(json.dumps({"text": "d", "label": "neg"}) + "\n")
    data = default_spec()["data"]
    data.update(train_file=str(tmp_path / "t.jsonl"), validation_file=str(tmp_path / "v.jsonl"))
    raw, labels = run_data.label_info(run_data.load_raw(data), data, {})
    assert labels.num_labels == 2 and labels.id2label == {0: "neg", 1: "pos"}
    assert raw["train"]["label"] == [1, 0, 1]
    assert raw["validation"]["label"] == [0]
    assert raw["train"].features["label"].names == ["neg", "pos"]


def test_float_labels_mean_regression(tmp_path):
    import pandas as pd

    pd.DataFrame({"text": ["a", "b"], "score": [0.5, 4.25]}).to_parquet(tmp_path / "t.parquet")
    data = default_spec()["data"]
    data.update(train_file=str(tmp_path / "t.parquet"), label_column="score")
    raw, labels = run_data.label_info(run_data.load_raw(data), data, {})
    assert labels.regression and labels.num_labels == 1
    assert raw["train"]["score"] == [0.5, 4.25]


def test_a_missing_column_is_named(tmp_path, tiny_model_dir):
    from transformers import AutoTokenizer

    (tmp_path / "t.csv").write_text("sentence,label\nhello,1\n")
    spec = default_spec(data=str(tmp_path / "t.csv"))
    with pytest.raises(WorkbenchError, match="data.text_column: no column 'text'.*") as raised:
        run_data.prepare(spec, AutoTokenizer.from_pretrained(tiny_model_dir))
    assert "sentence" in raised.value.hint


def label_info_of(tmp_path, text: str, **model):
    (tmp_path / "t.csv").write_text(text)
    data = default_spec()["data"]
    data.update(train_file=str(tmp_path / "t.csv"))
    return run_data.label_info(run_data.load_raw(data), data, model)


def test_label_kind_follows_the_datasets_panes_rule(tmp_path):
    """One rule with core.data.labels: integers with many values are scores, not classes."""
    from workbench.core.data.labels import infer_labels

    rows = "text,label\n" + "".join(f"t{i},{i * 7}\n" for i in range(150))
    raw, labels = label_info_of(tmp_path, rows)
    assert (
        labels.regression
        and infer_labels(run_data.load_raw({"train_file": str(tmp_path / "t.csv")})["train"], "label").task
        == "regression"
    )
    assert raw["train"].features["label"].dtype == "float32"
    _, labels = label_info_of(tmp_path, rows, num_labels=1050)
    assert labels.num_labels == 1050  # asked for classes explicitly
    _, labels = label_info_of(tmp_path, "text,label\na,0\nb,2\nc,1\n")
    assert labels.num_labels == 3 and not labels.regression
    _, labels = label_info_of(tmp_path, "text,label\na,0\nb,2\nc,1\n", num_labels=1)
    assert labels.regression


def test_mixed_number_and_text_labels_name_the_row(tmp_path):
    with pytest.raises(WorkbenchError, match=r"mixes numbers and text: row 2 holds 'pos'"):
        label_info_of(tmp_path, "text,label\na,0\nb,1\nc,pos\nd,1\n")
