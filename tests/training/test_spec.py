from __future__ import annotations

import pytest
import tomllib

from workbench.training.spec import (
    SpecError,
    apply_overrides,
    complete_spec,
    default_spec,
    dump_spec,
    load_spec,
    validate_spec,
)


def fields_of(errors) -> list[str]:
    return [error.field for error in errors]


def test_default_spec_with_data_is_valid(tiny_data):
    spec = default_spec(data=str(tiny_data["train"]))
    assert spec["model"]["name_or_path"] == "embedded"
    assert spec["training"]["learning_rate"] == 5e-5
    assert validate_spec(spec) == []


def test_every_problem_is_reported_by_field(tiny_data, tmp_path):
    spec = {
        "model": {"name_or_path": "", "head": "summarisation", "compile_mode": "reduce_overhead"},
        "data": {"train_file": str(tmp_path / "missing.csv"), "validation_file": "notes.docx", "max_length": 0},
        "training": {
            "learning_rate": "fast",
            "num_train_epochs": 0,
            "lr_scheduler_type": "cosin",
            "mixed_precision": "fp8",
            "per_device_train_batch_size": 0,
            "metrics": ["accuracy", "bleu"],
            "eval_strategy": "steps",
            "lerning_rate": 1e-4,
        },
        "optimizer": {},
    }
    errors = validate_spec(spec)
    assert set(fields_of(errors)) == {
        "model.name_or_path",
        "model.head",
        "model.compile_mode",
        "data.train_file",
        "data.validation_file",
        "data.max_length",
        "training.learning_rate",
        "training.num_train_epochs",
        "training.lr_scheduler_type",
        "training.mixed_precision",
        "training.per_device_train_batch_size",
        "training.metrics[1]",
        "training.eval_steps",
        "training.lerning_rate",
        "optimizer",
    }
    messages = {error.field: error.message for error in errors}
    assert "did you mean 'learning_rate'" in messages["training.lerning_rate"]
    assert "did you mean 'cosine'" in messages["training.lr_scheduler_type"]
    assert "did you mean 'reduce-overhead'" in messages["model.compile_mode"]
    assert "file not found" in messages["data.train_file"]
    error = SpecError(errors, source="spec.toml")
    assert "15 problem(s)" in str(error) and "training.metrics[1]" in str(error)


def test_a_data_folder_is_named_as_a_folder(tiny_data, tmp_path):
    # It said "unsupported file type '(none)'".
    spec = default_spec(data=str(tmp_path))
    spec["data"]["validation_file"] = str(tiny_data["train"])
    messages = {error.field: error.message for error in validate_spec(spec)}
    assert messages == {"data.train_file": f"{tmp_path} is a folder; give one data file in it"}


def test_a_named_pipe_is_not_called_missing(tiny_data, tmp_path):
    import os

    pipe = tmp_path / "train.csv"
    os.mkfifo(pipe)
    messages = {error.field: error.message for error in validate_spec(default_spec(data=str(pipe)))}
    assert messages == {"data.train_file": f"not a regular file: {pipe}"}


def test_a_hub_dataset_beside_data_files_is_refused_not_silently_preferred(tiny_data):
    spec = default_spec(data=str(tiny_data["train"]))
    spec["data"]["dataset"] = "nyu-mll/glue"
    messages = {error.field: error.message for error in validate_spec(spec)}
    assert messages == {
        "data.train_file": "is set as well as data.dataset (nyu-mll/glue); keep one: the files or the Hub dataset"
    }
    spec["data"]["train_file"] = ""
    assert validate_spec(spec) == []  # the Hub dataset alone (its download is checked when the run loads it)


def test_bool_is_not_a_number_and_ints_are_floats(tiny_data):
    spec = default_spec(data=str(tiny_data["train"]))
    spec["training"]["num_train_epochs"] = 2  # an int where a float is expected is fine
    spec["training"]["seed"] = True
    assert fields_of(validate_spec(spec)) == ["training.seed"]


def test_toml_round_trip_and_relative_paths(tiny_data, tmp_path):
    spec = default_spec(data=str(tiny_data["train"]))
    spec["model"]["id2label"] = {"0": "neg", "1": "pos"}
    path = tmp_path / "spec.toml"
    path.write_text(dump_spec(spec), encoding="utf-8")
    assert load_spec(path) == spec
    commented = dump_spec(spec, comments=True)
    assert "# peak learning rate of AdamW" in commented
    assert tomllib.loads(commented) == spec
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.csv").write_text("text,label\na,1\n")
    path.write_text('[data]\ntrain_file = "data/t.csv"\n', encoding="utf-8")
    assert load_spec(path)["data"]["train_file"] == str(tmp_path / "data" / "t.csv")


def test_load_spec_reports_bad_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[training\nlearning_rate = 1\n")
    with pytest.raises(SpecError) as raised:
        load_spec(path)
    assert raised.value.errors[0].field == "toml"


def test_overrides_are_typed_by_the_schema():
    spec = apply_overrides(
        default_spec(),
        [
            "training.learning_rate=3e-5",
            "seed=7",  # a unique key needs no section
            "data.text_column=#1 String",
            "model.name_or_path=123",
            "training.metrics=accuracy,f1",
            'model.id2label={0 = "neg", 1 = "pos"}',
            "training.group_by_length=true",
        ],
    )
    assert spec["training"]["learning_rate"] == 3e-5
    assert spec["training"]["seed"] == 7
    assert spec["data"]["text_column"] == "#1 String"
    assert spec["model"]["name_or_path"] == "123"
    assert spec["training"]["metrics"] == ["accuracy", "f1"]
    assert spec["model"]["id2label"] == {"0": "neg", "1": "pos"}
    assert spec["training"]["group_by_length"] is True


def test_bad_overrides_list_every_error():
    with pytest.raises(SpecError) as raised:
        apply_overrides(default_spec(), ["nonsense", "trainig.seed=1", "lerning_rate=1", "a.b.c=1"])
    assert fields_of(raised.value.errors) == ["nonsense", "trainig.seed", "lerning_rate", "a.b.c"]


def test_complete_spec_fills_missing_keys():
    full = complete_spec({"training": {"seed": 3}})
    assert full["training"]["seed"] == 3
    assert full["training"]["learning_rate"] == 5e-5
    assert full["monitor"]["nan_policy"] == "stop"


def test_a_language_model_is_checked_against_its_block_not_max_length(tiny_model_dir, tiny_data):
    spec = default_spec(model=str(tiny_model_dir), data=str(tiny_data["train"]), head="masked-lm")
    spec["data"].update(max_length=512, block_size=64)  # the tiny model has 128 positions
    assert not [e for e in validate_spec(spec) if e.field.startswith("data.max_length")]
    spec["data"]["block_size"] = 0  # the block is then max_length: too long for the model
    assert [e for e in validate_spec(spec) if e.field == "data.max_length"]
