"""Loading with a head, every playground output kind, creating and saving, Show code, and the CLI."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.core.errors import WorkbenchError
from workbench.core.models.codegen import code_for
from workbench.core.models.create import create_model, parse_overrides, save_model
from workbench.core.models.heads import head_kind
from workbench.core.models.inference import PlaygroundInput, predict
from workbench.core.models.inspect import inspect_checkpoint
from workbench.core.models.labels import parse_labels
from workbench.core.models.loading import Cancelled, LabelMismatchError, LoadOptions, load_model


def _load(folder, head, **options):
    return load_model(inspect_checkpoint(folder), LoadOptions(head_kind(head), **options))


def test_sequence_classification_probabilities_use_id2label(tiny_models):
    loaded = _load(tiny_models["bert-sentiment"], "sequence-classification")
    assert loaded.report.status == "all from checkpoint"
    prediction = predict(loaded, PlaygroundInput(text="what a lovely day", pair="the sun is out"))
    labels = prediction.result["labels"]
    assert {item["label"] for item in labels} == {"negative", "positive"}
    assert sum(item["score"] for item in labels) == pytest.approx(1.0, abs=1e-3)
    assert labels[0]["score"] >= labels[1]["score"]
    assert prediction.raw[0][:2] == ("logits", [1, 2])


def test_token_classification_spans_have_offsets_into_the_text(tiny_models):
    loaded = _load(tiny_models["bert-ner"], "token-classification")
    text = "Sarah lives in Paris"
    prediction = predict(loaded, PlaygroundInput(text=text))
    assert [row["token"] for row in prediction.result["tokens"]] == ["sarah", "lives", "in", "paris"]
    for span in prediction.result["spans"]:
        assert text[span["start"] : span["end"]] == span["text"]
        assert span["label"] in {"PER", "LOC"}


def test_question_answering_answer_comes_from_the_context(tiny_models):
    loaded = _load(tiny_models["bert-qa"], "question-answering")
    context = "The workbench was written in Lisbon in 2026."
    prediction = predict(loaded, PlaygroundInput(text="Where was it written?", context=context))
    result = prediction.result
    assert result["answer"] and result["answer"] == context[result["start"] : result["end"]]
    assert 0 < result["score"] <= 1


def test_fill_mask_top_k_and_noise_warning(embedded_path, tiny_models):
    loaded = _load(tiny_models["bert-mlm"], "masked-lm")
    prediction = predict(loaded, PlaygroundInput(text="Paris is the [MASK] of France.", top_k=3))
    candidates = prediction.result["masks"][0]["candidates"]
    assert len(candidates) == 3 and candidates[0]["score"] >= candidates[-1]["score"]
    assert prediction.result["all_new"] is False
    with pytest.raises(WorkbenchError, match=r"Put \[MASK\]"):
        predict(loaded, PlaygroundInput(text="no mask here"))
    embedded = _load(embedded_path, "masked-lm")
    assert embedded.report.head_all_new


def test_multiple_choice_ranks_each_choice(embedded_path):
    loaded = _load(embedded_path, "multiple-choice")
    prediction = predict(loaded, PlaygroundInput(text="The cat sat on the", choices=("mat", "moon", "")))
    assert [choice["choice"] for choice in prediction.result["choices"]] == ["mat", "moon"]
    with pytest.raises(WorkbenchError, match="at least two choices"):
        predict(loaded, PlaygroundInput(text="x", choices=("only",)))


@pytest.mark.parametrize("name, head", [("gpt2", "causal-lm"), ("t5", "seq2seq-lm")])
def test_generation_is_repeatable_with_a_seed(tiny_models, name, head):
    loaded = _load(tiny_models[name], head)
    inputs = PlaygroundInput(text="once upon a time", max_new_tokens=6, temperature=0.8, top_p=0.9, seed=7)
    first, second = predict(loaded, inputs), predict(loaded, inputs)
    assert first.result["generated"] == second.result["generated"] and first.result["generated"]
    assert 1 <= first.result["new_tokens"] <= 6
    greedy = predict(loaded, PlaygroundInput(text="once upon a time", max_new_tokens=4, temperature=0))
    assert greedy.result["sampling"] == "greedy"
    with pytest.raises(WorkbenchError, match="top-p"):
        predict(loaded, PlaygroundInput(text="x", top_p=0))


def test_base_model_hidden_states(embedded_path):
    prediction = predict(_load(embedded_path, "base"), PlaygroundInput(text="hello world"))
    assert prediction.result["hidden_size"] == 384 and prediction.raw[0][1] == [1, 4, 384]


def test_label_mismatch_is_explained_then_fresh_head_loads(tiny_models):
    labels = parse_labels("a, b, c")
    with pytest.raises(LabelMismatchError, match="has 2 labels, you asked for 3") as caught:
        _load(tiny_models["bert-sentiment"], "sequence-classification", labels=labels)
    assert "ignore_mismatched_sizes" in caught.value.hint
    loaded = _load(
        tiny_models["bert-sentiment"], "sequence-classification", labels=labels, ignore_mismatched_sizes=True
    )
    assert loaded.id2label == {0: "a", 1: "b", 2: "c"}
    prediction = predict(loaded, PlaygroundInput(text="hi"))
    assert len(prediction.result["labels"]) == 3


def test_a_config_whose_sizes_disagree_with_the_weights_is_not_called_a_label_mismatch(tiny_models, tmp_path, capsys):
    import shutil

    folder = tmp_path / "resized"
    shutil.copytree(tiny_models["bert-sentiment"], folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "hidden_size": 16}))
    for fresh_head in ([], ["--fresh-head"]):  # a fresh head cannot fix the encoder's shapes
        argv = ["model", "predict", str(folder), "hi", "--head", "sequence-classification", *fresh_head]
        assert main(argv) == 2
        message, hint = capsys.readouterr().err.strip().splitlines()
        assert "config.json does not match the weights" in message and "labels" not in message
        assert "checkpoint [32], config [16]" in message and message.endswith("more).")
        assert "Restore the config.json" in hint
    assert main(["model", "info", str(folder)]) == 0
    mismatch_lines = [line for line in capsys.readouterr().out.splitlines() if "size mismatch" in line]
    assert mismatch_lines and all(line.count("->[") == 3 and "more" in line for line in mismatch_lines)


def test_refusals_before_loading(tiny_models, broken_folders, tmp_path):
    import shutil

    import torch
    from safetensors.torch import load_file

    with pytest.raises(WorkbenchError, match="has no weights"):
        _load(broken_folders["no-weights"], "sequence-classification")
    with pytest.raises(WorkbenchError, match="Unknown architecture 'frobnicator'"):
        _load(broken_folders["unknown-arch"], "base")
    with pytest.raises(WorkbenchError, match="needs trust_remote_code"):
        _load(broken_folders["remote-code"], "base")
    with pytest.raises(WorkbenchError, match=r"needs about .* GiB to load, but only 0.0 GiB is free"):
        load_model(inspect_checkpoint(tiny_models["gpt2"]), LoadOptions(head_kind("causal-lm")), available_bytes=1000)
    with pytest.raises(Cancelled):
        load_model(
            inspect_checkpoint(tiny_models["gpt2"]), LoadOptions(head_kind("causal-lm")), should_stop=lambda: True
        )
    # Pickle weights: refused unless allowed, then loaded.
    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_models["bert-sentiment"], pickled)
    torch.save(load_file(str(pickled / "model.safetensors")), pickled / "pytorch_model.bin")
    (pickled / "model.safetensors").unlink()
    info = inspect_checkpoint(pickled)
    assert info.weights.format == "pickle" and any("pickle" in warning for warning in info.warnings)
    with pytest.raises(WorkbenchError, match="pickle weights"):
        _load(pickled, "sequence-classification")
    loaded = _load(pickled, "sequence-classification", allow_pickle=True)
    assert loaded.report.status == "all from checkpoint"


def test_create_from_config_and_save_with_tokenizer(tmp_path, embedded_tokenizer):
    model = create_model(
        "t5", "tiny", overrides=parse_overrides("num_layers=1, d_model=64"), tokenizer=embedded_tokenizer
    )
    assert model.config.num_layers == 1 and model.config.vocab_size == len(embedded_tokenizer)
    folder = save_model(model, embedded_tokenizer, tmp_path / "t5-new")
    info = inspect_checkpoint(folder)
    assert info.weights.format == "safetensors" and info.tokenizer_fast
    assert info.shape["layers"] == 1 and info.shape["hidden size"] == 64
    with pytest.raises(WorkbenchError, match="already holds a model"):
        save_model(model, embedded_tokenizer, folder)
    with pytest.raises(WorkbenchError, match="no field colour"):
        create_model("bert", "tiny", overrides={"colour": 1})
    with pytest.raises(WorkbenchError, match="Presets: tiny"):
        create_model("gpt2", "huge")
    with pytest.raises(WorkbenchError, match="not field=value"):
        parse_overrides("hidden_size")


def test_show_code_runs_and_matches_the_pane(tiny_models):
    loaded = _load(tiny_models["bert-sentiment"], "sequence-classification")
    inputs = PlaygroundInput(text="what a lovely day")
    code = code_for(
        str(tiny_models["bert-sentiment"]),
        "sequence-classification",
        "AutoModelForSequenceClassification",
        inputs,
        id2label=loaded.id2label,
    )
    compile(code, "<show-code>", "exec")
    assert "AutoModelForSequenceClassification.from_pretrained(" in code and "softmax" in code
    for head, auto in [
        ("token-classification", "AutoModelForTokenClassification"),
        ("question-answering", "AutoModelForQuestionAnswering"),
        ("masked-lm", "AutoModelForMaskedLM"),
        ("causal-lm", "AutoModelForCausalLM"),
        ("seq2seq-lm", "AutoModelForSeq2SeqLM"),
        ("multiple-choice", "AutoModelForMultipleChoice"),
        ("base", "AutoModel"),
    ]:
        compile(
            code_for("x", head, auto, PlaygroundInput(text="a", context="b", choices=("c", "d")), fresh_head=True),
            head,
            "exec",
        )


def test_show_code_for_generation_reproduces_the_output(tiny_models, capsys):
    loaded = _load(tiny_models["t5"], "seq2seq-lm")
    inputs = PlaygroundInput(text="translate this", max_new_tokens=5, temperature=0)
    expected = predict(loaded, inputs).result["generated"]
    exec(code_for(str(tiny_models["t5"]), "seq2seq-lm", "AutoModelForSeq2SeqLM", inputs), {})
    assert capsys.readouterr().out.strip() == expected


def test_cli_info_json_and_text(tiny_models, capsys):
    assert main(["model", "info", str(tiny_models["bert-sentiment"]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model_type"] == "bert" and data["id2label"] == {"0": "negative", "1": "positive"}
    heads = {head["head"]: head for head in data["heads"]}
    assert heads["sequence-classification"]["status"] == "all from checkpoint"
    assert heads["masked-lm"]["new_parameters"] > 0
    assert main(["model", "info", str(tiny_models["gpt2"])]) == 0
    out = capsys.readouterr().out
    assert "causal-lm" in out and "GPT2LMHeadModel" in out


def test_cli_predict_and_bad_input(tiny_models, broken_folders, capsys):
    assert (
        main(
            [
                "model",
                "predict",
                str(tiny_models["bert-sentiment"]),
                "--head",
                "sequence-classification",
                "nice",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["head"] == "sequence-classification" and len(data["result"]["labels"]) == 2
    assert (
        main(
            [
                "model",
                "predict",
                str(tiny_models["bert-qa"]),
                "--head",
                "question-answering",
                "Who?",
                "--context",
                "Ann wrote it.",
            ]
        )
        == 0
    )
    assert "score" in capsys.readouterr().out
    assert main(["model", "predict", str(broken_folders["corrupt-config"]), "--head", "base", "x"]) == 2
    assert "line 3, column" in capsys.readouterr().err
    assert (
        main(
            [
                "model",
                "predict",
                str(tiny_models["bert-sentiment"]),
                "--head",
                "sequence-classification",
                "x",
                "--labels",
                "a,b,c",
            ]
        )
        == 2
    )
    assert "--fresh-head" in capsys.readouterr().err
    assert main(["model", "info", "org/model-on-the-hub"]) == 2
    assert "not reachable" in capsys.readouterr().err


def test_cli_create(tmp_path, capsys):
    assert main(["model", "create", "gpt2", str(tmp_path / "g"), "--set", "n_layer=1, n_embd=32, n_head=2"]) == 0
    assert "GPT2LMHeadModel" in capsys.readouterr().out
    assert inspect_checkpoint(tmp_path / "g").shape["layers"] == 1


@pytest.mark.parametrize(
    "family, edit, message",
    [
        ("bert", "hidden_size=abc", "Field 'hidden_size' expected int, got str (value: 'abc')"),
        ("t5", "vocab_size=1e9", "Field 'vocab_size' expected int, got float"),
        ("bert", "hidden_size=0", "Config edit hidden_size=0: hidden_size must be 1 or more."),  # divided by zero
        ("gpt2", "n_layer=-1", "Config edit n_layer=-1: n_layer must be 1 or more."),  # saved a model with no layers
    ],
)
def test_cli_create_refuses_bad_config_edits_in_one_line(tmp_path, capsys, family, edit, message):
    assert main(["model", "create", family, str(tmp_path / "out"), "--set", edit]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# -- issue 22 item 13, issue 19 item 11 ----------------------------------------------------------
def test_model_info_accepts_embedded(capsys):

    assert main(["model", "info", "embedded", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["model_type"] == "bert" and printed["heads"]


def test_predict_refuses_inputs_the_head_does_not_read(tiny_models, capsys):

    folder = str(tiny_models["bert-sentiment"])
    argv = ["model", "predict", folder, "--head", "sequence-classification", "is it good?"]
    assert main([*argv, "--context", "a passage"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "workbench: --context is read only by the question-answering head, not sequence-classification; leave it out"
    ]
    assert main(["model", "predict", folder, "--head", "base", "x", "--pair", "y"]) == 2
    assert "--pair is read only by the sequence-classification head" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["info", "predict"])
def test_a_truncated_safetensors_file_is_one_clear_line(tiny_models, tmp_path, capsys, command):
    import os
    import shutil

    folder = tmp_path / "cut"
    shutil.copytree(tiny_models["bert-sentiment"], folder)
    weights = folder / "model.safetensors"
    os.truncate(weights, weights.stat().st_size - 100)
    argv = (
        ["model", "info", str(folder)]
        if command == "info"
        else ["model", "predict", str(folder), "x", "--head", "base"]
    )
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "model.safetensors is truncated" in err and "download or copy the checkpoint again" in err


@pytest.mark.parametrize("name, head", [("gpt2", "causal-lm"), ("t5", "seq2seq-lm")])
def test_streamed_generation_grows_to_the_same_text(tiny_models, name, head):
    loaded = _load(tiny_models[name], head)
    inputs = PlaygroundInput(text="once upon a time", max_new_tokens=8, temperature=0)
    pieces: list[str] = []
    streamed = predict(loaded, inputs, on_text=pieces.append)
    assert pieces and all(later.startswith(earlier) for earlier, later in zip(pieces, pieces[1:]))
    assert streamed.result["generated"] == predict(loaded, inputs).result["generated"]
    assert pieces[-1].strip() == streamed.result["generated"].strip()
