"""Bad specs, models and data files: each refused up front with one clear line naming the thing
(issue 19 item 12), never a DatasetGenerationError or a failure at step 1."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.training.helpers import run_child
from workbench.core.errors import WorkbenchError
from workbench.core.runs import protocol
from workbench.training import data as run_data
from workbench.training.spec import SpecError, apply_overrides, validate_spec

# --- the spec and the model it names: validate_spec, before launch ---------------------------


def edit_config(folder, **changes):
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


def pickle_only(folder):
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")


def no_config(folder):
    (folder / "config.json").unlink()


def cut_weights_short(folder):  # a copy interrupted part way
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])


def garble_weights(folder):
    (folder / "model.safetensors").write_bytes(b"<html>Not Found</html>")  # a download that saved an error page


def drop_tokenizer(folder):
    for path in folder.iterdir():
        if path.name.startswith(("tokenizer", "vocab", "special_tokens")):
            path.unlink()


SPEC_CASES = [
    # (id, --set overrides, change to a copy of the model folder, field, words in the message)
    ("inf epsilon", ["training.adam_epsilon=inf"], None, "training.adam_epsilon", "must be a finite number, not inf"),
    ("nan rate", ["training.learning_rate=nan"], None, "training.learning_rate", "must be a finite number, not nan"),
    ("-inf decay", ["training.weight_decay=-inf"], None, "training.weight_decay", "must be a finite number"),
    ("max_length over positions", ["data.max_length=512"], None, "data.max_length", "reads at most 128 tokens"),
    (
        "negative layers",
        [],
        lambda f: edit_config(f, num_hidden_layers=-2),
        "model.name_or_path",
        "num_hidden_layers = -2",
    ),
    (
        "zero heads",
        [],
        lambda f: edit_config(f, num_attention_heads=0),
        "model.name_or_path",
        "num_attention_heads = 0",
    ),
    ("heads not dividing", [], lambda f: edit_config(f, num_attention_heads=3), "model.name_or_path", "not a multiple"),
    (
        "text layer count",
        [],
        lambda f: edit_config(f, num_hidden_layers="2"),
        "model.name_or_path",
        "num_hidden_layers = '2'; it must be a whole number, 1 or more",
    ),
    ("pickle only", [], pickle_only, "model.name_or_path", "pickle weights only"),
    ("no config", [], no_config, "model.name_or_path", "no config.json"),
    ("weights cut short", [], cut_weights_short, "model.name_or_path", "model.safetensors is cut short"),
    ("weights not safetensors", [], garble_weights, "model.name_or_path", "is not a whole safetensors file"),
    ("no tokenizer", [], drop_tokenizer, "model.name_or_path", "has no tokenizer"),
    ("id2label by name", [], lambda f: edit_config(f, id2label={"neg": "0"}), "model.name_or_path", "key 'neg'"),
]


@pytest.mark.parametrize(
    ("overrides", "change", "field", "words"), [case[1:] for case in SPEC_CASES], ids=[c[0] for c in SPEC_CASES]
)
def test_bad_spec_or_model_is_refused_before_launch(
    tiny_spec, tiny_model_dir, tmp_path, overrides, change, field, words
):
    if change is not None:
        model = tmp_path / "model"
        shutil.copytree(tiny_model_dir, model)
        change(model)
        tiny_spec["model"]["name_or_path"] = str(model)
    spec = apply_overrides(tiny_spec, overrides)
    errors = validate_spec(spec)
    assert [e.field for e in errors] == [field], errors
    assert words in errors[0].message and "\n" not in errors[0].message
    assert "Traceback" not in str(SpecError(errors))


def test_training_from_a_config_does_not_need_the_weights(tiny_spec, tiny_model_dir, tmp_path):
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    (model / "model.safetensors").unlink()
    tiny_spec["model"].update(name_or_path=str(model), from_config=True)
    assert validate_spec(tiny_spec) == []
    tiny_spec["model"]["from_config"] = False
    assert ["no weights" in error.message for error in validate_spec(tiny_spec)] == [True]


def test_a_misspelt_column_is_refused_before_a_run_folder_exists(tiny_spec, tmp_path, monkeypatch, capsys):
    """`workbench train --detach` used to start a run that failed in its child a few seconds later."""
    from workbench.cli import main
    from workbench.training.spec import dump_spec

    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(tmp_path / "runs"))
    tiny_spec["data"]["label_column"] = "Label"
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(dump_spec(tiny_spec), encoding="utf-8")
    assert main(["train", str(spec_file), "--detach", "--set", "data.text_column=txt"]) == 2
    err = capsys.readouterr().err
    assert "data.label_column: no column 'Label' in train.csv; did you mean 'label'? (its columns: text, label)" in err
    assert "data.text_column: no column 'txt' in train.csv" in err
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_a_config_that_does_not_match_the_weights_is_refused_not_trained_from_random(tiny_spec, tmp_path):
    """ignore_mismatched_sizes (for a head of another size) silently re-initialised the whole body."""
    from workbench.core.tasks import get_task
    from workbench.core.tasks.base import HeadLabels

    folder = shutil.copytree(tiny_spec["model"]["name_or_path"], tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    edit_config(folder, intermediate_size=config["intermediate_size"] * 2)
    task = get_task("sequence-classification")
    with pytest.raises(
        WorkbenchError, match=r"config.json does not match the weights: \d+ tensors of the model's body"
    ):
        task.load_model(tiny_spec, str(folder), HeadLabels(num_labels=2))
    (folder / "config.json").write_text(json.dumps(config))  # restored: a head of another size still loads
    model = task.load_model(tiny_spec, str(folder), HeadLabels(num_labels=5))
    assert model.config.num_labels == 5


def test_the_tiny_spec_itself_is_fine(tiny_spec):
    assert validate_spec(tiny_spec) == []


def test_a_loaded_model_is_checked_for_positions_too(tiny_model_dir):
    """Hub models are only known once loaded: the child checks before step 1."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from workbench.training.preflight import check_loaded

    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    check_loaded(model, tokenizer, 128)
    with pytest.raises(WorkbenchError, match=r"data.max_length: is 300 but .* reads at most 128 tokens"):
        check_loaded(model, tokenizer, 300)


# --- data files: the Datasets pane's checks, naming the file, the line and the reason ----------

DATA_CASES = [
    ("empty", b"", "t.csv: the file is empty"),
    ("binary", b"text,label\x00\x01\x02\n", "looks binary (a NUL byte at offset 10)"),
    ("latin-1", "text,label\nun caf\u00e9 cr\u00e8me,pos\n".encode("latin-1"), "t.csv line 2: not valid UTF-8"),
    ("ragged", b"text,label\na,pos\nb,neg,extra\n", "t.csv line 3: 3 fields, but the header has 2 columns"),
    ("bad quote", b'text,label\n"a,pos\nb,neg\n', "t.csv line 2: malformed CSV"),
    ("repeated column", b"text,label,label\na,pos,neg\n", "the column name 'label' appears twice"),
    ("header only", b"text,label\n", "a header (2 columns) but no rows"),
]


@pytest.mark.parametrize(("content", "words"), [case[1:] for case in DATA_CASES], ids=[c[0] for c in DATA_CASES])
def test_bad_data_file_is_named_with_its_line_and_reason(tmp_path, content, words):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    data = {"train_file": str(path)}
    with pytest.raises(WorkbenchError) as raised:
        run_data.load_raw(data)
    message = raised.value.message
    assert message.startswith("data.train_file: ") and words in message, message
    assert "DatasetGenerationError" not in str(raised.value)


LABEL_CASES = [
    ("mixed int and text", "text,label\na,0\nb,1\nc,pos\nd,1\n", "mixes numbers and text: row 2 holds 'pos'"),
    ("an empty label", "text,label\na,pos\nb,\nc,neg\n", "row 1 is empty"),
]


@pytest.mark.parametrize(("text", "words"), [case[1:] for case in LABEL_CASES], ids=[c[0] for c in LABEL_CASES])
def test_bad_labels_name_the_row(tmp_path, text, words):
    (tmp_path / "t.csv").write_text(text)
    data = {"train_file": str(tmp_path / "t.csv"), "label_column": "label"}
    with pytest.raises(WorkbenchError, match=words):
        run_data.label_info(run_data.load_raw(data), data, {})


# --- in a real child ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_ragged_file_fails_the_run_with_the_line_not_a_datasets_error(tiny_spec, tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("text,label\na good movie,pos\na bad movie,neg,oops\n")
    tiny_spec["data"].update(train_file=str(ragged), validation_file="")
    run_dir = tmp_path / "run"
    result = run_child(tiny_spec, run_dir)
    assert result.returncode == 1
    final = protocol.read_events(run_dir / "events.jsonl")[-1]
    assert isinstance(final, protocol.Failed)
    assert "data.train_file: ragged.csv line 3: 3 fields, but the header has 2 columns" in final.error


@pytest.mark.slow
def test_a_skipped_step_writes_no_loss_instead_of_zero(tiny_spec, tmp_path):
    tiny_spec["training"].update(max_steps=5, logging_steps=1, metrics=[], eval_strategy="no", save_steps=0)
    tiny_spec["monitor"].update(nan_policy="skip", system_sample_interval_s=0)
    run_dir = tmp_path / "run"
    result = run_child(tiny_spec, run_dir, env={"WORKBENCH_DEBUG_NAN_AT_STEP": "3"})
    assert result.returncode == 0, result.stderr[-3000:]
    events = protocol.read_events(run_dir / "events.jsonl")
    steps = {e.step: e.loss for e in events if isinstance(e, protocol.Step)}
    assert 3 not in steps and all(loss > 0.1 for loss in steps.values()), steps
    alerts = [e for e in events if isinstance(e, protocol.Alert)]
    assert [(a.kind, a.step) for a in alerts] == [("nan_loss", 3)] and "skipping" in alerts[0].message
    assert isinstance(events[-1], protocol.Finished) and events[-1].status == "finished"


@pytest.mark.slow
def test_the_gpu_path_stops_on_a_nan_loss_at_the_next_logging_step(tiny_spec, tmp_path):
    """On a GPU the loss is read back at logging steps only; a NaN in between still stops the run."""
    from workbench.training.loop import GPU_GUARD_ENV, INJECT_NAN_ENV

    tiny_spec["training"].update(max_steps=12, logging_steps=5, metrics=[], eval_strategy="no", save_steps=0)
    tiny_spec["monitor"]["system_sample_interval_s"] = 0
    run_dir = tmp_path / "run"
    result = run_child(tiny_spec, run_dir, env={INJECT_NAN_ENV: "3", GPU_GUARD_ENV: "1"})
    assert result.returncode == 1, result.stderr[-3000:]
    events = protocol.read_events(run_dir / "events.jsonl")
    alerts = [e for e in events if isinstance(e, protocol.Alert)]
    assert [(a.kind, a.step) for a in alerts] == [("nan_loss", 5)] and "stopping" in alerts[0].message
    assert isinstance(events[-1], protocol.Failed) and "NaN or infinite at step 5" in events[-1].error
    assert not (run_dir / "final").exists()
