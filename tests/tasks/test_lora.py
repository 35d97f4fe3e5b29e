"""LoRA (core/tasks/lora.py): the spec table, peft's defaults per architecture, bad target names,
parameter counts, saving the adapter and opening an adapter folder (core/models/loading.py)."""

from __future__ import annotations

import json

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.tasks import lora


def tiny(family: str, head: str):
    from workbench.core.models.create import create_model

    return create_model(family, "tiny", head)


def spec_with(table: dict, name: str = "some-org/some-model", **model) -> dict:
    return {"model": {"name_or_path": name, "lora": table, **model}}


def tiny_distilbert():
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    config = DistilBertConfig(vocab_size=50, dim=32, n_layers=1, n_heads=2, hidden_dim=64, max_position_embeddings=64)
    return DistilBertForSequenceClassification(config)


# -- defaults per architecture -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "head", "task", "targets", "peft_class"),
    [
        (
            "bert",
            "sequence-classification",
            "sequence-classification",
            ["query", "value"],
            "PeftModelForSequenceClassification",
        ),
        ("bert", "token-classification", "token-classification", ["query", "value"], "PeftModelForTokenClassification"),
        ("bert", "question-answering", "question-answering", ["query", "value"], "PeftModelForQuestionAnswering"),
        ("bert", "masked-lm", "masked-lm", ["query", "value"], "PeftModel"),
        ("gpt2", "causal-lm", "causal-lm", ["c_attn"], "PeftModelForCausalLM"),
        ("t5", "seq2seq-lm", "seq2seq", ["q", "v"], "PeftModelForSeq2SeqLM"),
    ],
)
def test_peft_default_targets_and_task_type_per_architecture(family, head, task, targets, peft_class):
    model, counts = lora.apply(tiny(family, head), spec_with({"r": 4}), task)
    assert type(model).__name__ == peft_class
    config = model.peft_config["default"]
    assert sorted(config.target_modules) == sorted(targets)
    assert config.r == 4 and config.base_model_name_or_path == "some-org/some-model"
    adapted = {name.split(".lora_A")[0].rsplit(".", 1)[-1] for name, _ in model.named_parameters() if "lora_A" in name}
    assert adapted == set(targets)
    assert 0 < counts.trainable < counts.total


def test_peft_defaults_for_what_the_table_leaves_out():
    from peft import LoraConfig

    model, _ = lora.apply(tiny("bert", "sequence-classification"), spec_with({"r": 8}), "sequence-classification")
    config, default = model.peft_config["default"], LoraConfig()
    assert (config.lora_alpha, config.lora_dropout, config.bias) == (
        default.lora_alpha,
        default.lora_dropout,
        default.bias,
    )


def test_gpt2_conv1d_targets_get_fan_in_fan_out_without_a_warning(recwarn):
    model, _ = lora.apply(tiny("gpt2", "causal-lm"), spec_with({"r": 2}), "causal-lm")
    assert model.peft_config["default"].fan_in_fan_out is True
    assert not [w for w in recwarn if "fan_in_fan_out" in str(w.message)]


def test_an_architecture_peft_lacks_gets_its_attention_projections():
    model = tiny_distilbert()
    assert lora.default_targets(model) == ["q_lin", "v_lin"]
    wrapped, counts = lora.apply(model, spec_with({"r": 2}), "sequence-classification")
    assert counts.trainable < counts.total


def test_head_modules_the_checkpoint_lacks_train_in_full(tmp_path):
    from transformers import DistilBertForSequenceClassification

    folder = tmp_path / "distilbert"
    tiny_distilbert().distilbert.save_pretrained(folder)  # an encoder-only checkpoint
    model = DistilBertForSequenceClassification.from_pretrained(folder, num_labels=2)
    assert lora.fresh_head_modules(model) == ["pre_classifier", "classifier"]
    wrapped, _ = lora.apply(model, spec_with({"r": 2}, name=str(folder)), "sequence-classification")
    trainable = {name for name, parameter in wrapped.named_parameters() if parameter.requires_grad}
    assert any("pre_classifier" in name for name in trainable) and any(".classifier." in name for name in trainable)


def test_the_spec_table_is_left_as_it_was():
    table = {"r": 4, "modules_to_save": ["classifier"], "target_modules": ["query"]}
    lora.apply(tiny("bert", "sequence-classification"), spec_with(table), "sequence-classification")
    assert table == {"r": 4, "modules_to_save": ["classifier"], "target_modules": ["query"]}
    assert not lora.enabled({"r": True}) and not lora.enabled({"r": 0}) and lora.enabled({"r": 1})


def test_the_classifier_head_trains_in_full_for_classification():
    model, _ = lora.apply(tiny("bert", "sequence-classification"), spec_with({"r": 4}), "sequence-classification")
    trainable = {name for name, parameter in model.named_parameters() if parameter.requires_grad}
    assert any("classifier" in name for name in trainable)
    assert not any("query.base_layer" in name for name in trainable)


# -- counts ---------------------------------------------------------------------------------------


def test_counts_are_the_adapter_and_the_head():
    base = tiny("bert", "sequence-classification")
    hidden, layers, labels = base.config.hidden_size, base.config.num_hidden_layers, base.config.num_labels
    total_before = sum(p.numel() for p in base.parameters())
    model, counts = lora.apply(base, spec_with({"r": 4}), "sequence-classification")
    adapter = layers * 2 * (4 * hidden + hidden * 4)  # query and value: A (r x in) and B (out x r)
    head = hidden * labels + labels
    assert counts.trainable == adapter + head
    assert counts.total == total_before + adapter + head  # peft keeps a trainable copy of the head
    assert "trainable" in counts.describe() and counts.as_dict() == {"trainable": adapter + head, "total": counts.total}


@pytest.mark.parametrize("table", [{}, {"r": 0}, {"r": 0, "lora_alpha": 16}])
def test_no_lora_leaves_the_model_alone(table):
    model = tiny("bert", "sequence-classification")
    same, counts = lora.apply(model, spec_with(table), "sequence-classification")
    assert same is model and counts.trainable == counts.total == sum(p.numel() for p in model.parameters())


# -- bad input -----------------------------------------------------------------------------------


def test_target_modules_that_do_not_exist_list_the_ones_that_do():
    with pytest.raises(WorkbenchError) as caught:
        lora.apply(
            tiny("bert", "sequence-classification"),
            spec_with({"r": 4, "target_modules": ["query", "q_proj", "v_proj"]}),
            "sequence-classification",
        )
    error = caught.value
    assert "'q_proj', 'v_proj'" in error.message and "'query'" not in error.message
    assert "model.lora.target_modules" in error.message
    for name in ("query", "key", "value", "dense", "classifier"):
        assert name in error.hint


def test_a_regex_matching_nothing_is_refused():
    with pytest.raises(WorkbenchError, match="matches no module"):
        lora.apply(tiny("gpt2", "causal-lm"), spec_with({"r": 4, "target_modules": r".*\.q_proj"}), "causal-lm")


def test_lora_over_random_weights_is_refused():
    with pytest.raises(WorkbenchError, match="from_config"):
        lora.apply(
            tiny("bert", "sequence-classification"), spec_with({"r": 4}, from_config=True), "sequence-classification"
        )


@pytest.mark.parametrize(
    ("table", "field", "words"),
    [
        ({"r": 4, "rank": 8}, "model.lora.rank", "known: r, lora_alpha"),
        ({"lora_alpha": 16}, "model.lora.r", "is missing"),
        ({"r": -1}, "model.lora.r", "0 (off) or more"),
        ({"r": 2.5}, "model.lora.r", "whole number"),
        ({"r": 4, "lora_alpha": 0}, "model.lora.lora_alpha", "above 0"),
        ({"r": 4, "lora_dropout": 1.0}, "model.lora.lora_dropout", "below 1"),
        ({"r": 4, "target_modules": []}, "model.lora.target_modules", "list of module names"),
        ({"r": 4, "target_modules": "(unclosed"}, "model.lora.target_modules", "regular expression"),
        ({"r": 4, "bias": "some"}, "model.lora.bias", "none, all, lora_only"),
        ({"r": 4, "modules_to_save": "classifier"}, "model.lora.modules_to_save", "list"),
        ({"r": 4, "save_merged": "yes"}, "model.lora.save_merged", "true or false"),
    ],
)
def test_validate_lora(table, field, words):
    problems = lora.validate_lora(table)
    assert [f for f, _ in problems] == [field], problems
    assert words in problems[0][1]


def test_validate_lora_accepts_good_tables():
    assert lora.validate_lora({}) == []
    assert lora.validate_lora({"r": 0}) == []
    good = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.05, "target_modules": ["q", "v"], "save_merged": True}
    assert lora.validate_lora(good) == []
    assert lora.validate_lora({"r": 8, "target_modules": "all-linear", "bias": "lora_only"}) == []
    assert [f for f, _ in lora.validate_lora({"r": 8}, from_config=True)] == ["model.lora.r"]


def test_the_spec_check_reports_lora_fields(tmp_path):
    from workbench.training.spec import default_spec, validate_spec

    spec = default_spec(data=str(tmp_path / "train.csv"))
    spec["model"]["lora"] = {"r": 4, "alpha": 16}
    fields = {error.field: error.message for error in validate_spec(spec, check_files=False)}
    assert "model.lora.alpha" in fields and "lora_alpha" in fields["model.lora.alpha"]
    spec["model"]["lora"] = {"r": 4, "lora_alpha": 16}
    assert not [e for e in validate_spec(spec, check_files=False) if e.field.startswith("model.lora")]


def test_base_model_names(tmp_path):
    assert lora.base_model_name("embedded") == "sentence-transformers/all-MiniLM-L6-v2"
    assert lora.base_model_name("gpt2") == "gpt2"
    assert lora.base_model_name(str(tmp_path)) == str(tmp_path.resolve())


# -- saving and opening adapters ------------------------------------------------------------------


@pytest.fixture
def base_folder(tmp_path):
    """A tiny BERT classifier and its tokenizer, saved like a Hub model."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = tmp_path / "base"
    folder.mkdir()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "movie", "the", "was"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # transformers 5 ignores `vocab_file` here (every word became [UNK]): the vocabulary is passed itself.
    BertTokenizerFast(vocab={word: index for index, word in enumerate(vocab)}).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def trained_adapter(base_folder, tmp_path, **table):
    """A LoRA adapter over `base_folder` with three labels and non-zero adapter weights, saved as final/."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    id2label = {0: "neg", 1: "neutral", 2: "pos"}
    model = AutoModelForSequenceClassification.from_pretrained(
        base_folder,
        num_labels=3,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
        ignore_mismatched_sizes=True,
    )
    spec = spec_with({"r": 4, **table}, name=str(base_folder))
    model, _ = lora.apply(model, spec, "sequence-classification")
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.requires_grad:
                parameter.add_(torch.randn_like(parameter) * 0.5)  # as if trained: lora_B is no longer zero
    final = tmp_path / "run" / "final"
    final.mkdir(parents=True)
    tokenizer = AutoTokenizer.from_pretrained(base_folder)
    notes = lora.save_adapter(model, final, model.state_dict(), spec, tokenizer)
    tokenizer.save_pretrained(final)
    model.eval()
    return model, final, notes, tokenizer


def test_saved_adapter_names_its_base_and_keeps_the_head_config(base_folder, tmp_path):
    _, final, notes, _ = trained_adapter(base_folder, tmp_path)
    assert notes == []
    assert {"adapter_config.json", "adapter_model.safetensors", "head_config.json"} <= {p.name for p in final.iterdir()}
    assert not (final / "config.json").exists() and not (final / "README.md").exists()
    adapter_config = json.loads((final / "adapter_config.json").read_text())
    assert adapter_config["base_model_name_or_path"] == str(base_folder.resolve())
    assert adapter_config["task_type"] == "SEQ_CLS"
    head = json.loads((final / "head_config.json").read_text())
    assert head["id2label"] == {"0": "neg", "1": "neutral", "2": "pos"}


def test_an_adapter_folder_opens_as_its_base_with_the_adapter_and_predicts_the_same(base_folder, tmp_path):
    import torch

    from workbench.core.models.heads import head_kind
    from workbench.core.models.inference import PlaygroundInput, predict
    from workbench.core.models.inspect import inspect_checkpoint
    from workbench.core.models.loading import LoadOptions, load_model

    trained, final, _, tokenizer = trained_adapter(base_folder, tmp_path)
    info = inspect_checkpoint(final)
    assert info.adapter == final and info.path == base_folder
    assert "LoRA adapter on" in info.name and info.name.startswith("run/final")
    assert info.id2label == {0: "neg", 1: "neutral", 2: "pos"}
    loaded = load_model(info, LoadOptions(head_kind("sequence-classification")))
    assert loaded.report.status == "all from checkpoint"  # the head comes from the adapter, not random
    assert loaded.id2label == {0: "neg", 1: "neutral", 2: "pos"}
    batch = tokenizer(["the movie was good"], return_tensors="pt")
    with torch.no_grad():
        expected = trained(**batch).logits
        got = loaded.model(**batch).logits
    assert torch.allclose(expected, got, atol=1e-5)
    prediction = predict(loaded, PlaygroundInput(text="the movie was good"))
    assert prediction.as_dict()


def test_an_adapter_opened_with_another_head_is_refused(base_folder, tmp_path):
    from workbench.core.models.heads import head_kind
    from workbench.core.models.inspect import inspect_checkpoint
    from workbench.core.models.loading import LoadOptions, load_model

    _, final, _, _ = trained_adapter(base_folder, tmp_path)
    with pytest.raises(WorkbenchError, match="sequence-classification adapter"):
        load_model(inspect_checkpoint(final), LoadOptions(head_kind("token-classification")))


def test_an_adapter_whose_base_is_gone_names_it(base_folder, tmp_path):
    from workbench.core.models.inspect import inspect_checkpoint

    _, final, _, _ = trained_adapter(base_folder, tmp_path)
    config = json.loads((final / "adapter_config.json").read_text())
    for base, words in ((str(tmp_path / "moved-away"), "moved-away"), ("", "names no base model")):
        config["base_model_name_or_path"] = base
        (final / "adapter_config.json").write_text(json.dumps(config))
        with pytest.raises(WorkbenchError, match=words) as caught:
            inspect_checkpoint(final)
        assert "adapter_config.json" in str(caught.value)


def test_an_adapter_whose_hub_base_is_not_cached_names_it_offline(base_folder, tmp_path, monkeypatch):
    from workbench.core.models.inspect import inspect_checkpoint

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    _, final, _, _ = trained_adapter(base_folder, tmp_path)
    config = json.loads((final / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "some-org/not-cached-model"
    (final / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(WorkbenchError, match="some-org/not-cached-model"):
        inspect_checkpoint(final)


def test_save_merged_writes_a_plain_model_that_predicts_the_same(base_folder, tmp_path):
    import torch
    from transformers import AutoModelForSequenceClassification

    trained, final, _, tokenizer = trained_adapter(base_folder, tmp_path, save_merged=True)
    batch = tokenizer(["the movie was bad"], return_tensors="pt")
    with torch.no_grad():
        expected = trained(**batch).logits
    merged = AutoModelForSequenceClassification.from_pretrained(final / "merged").eval()
    assert (final / "merged" / "tokenizer_config.json").is_file()
    with torch.no_grad():
        assert torch.allclose(merged(**batch).logits, expected, atol=1e-5)


def test_a_lora_runs_final_folder_is_in_the_model_catalog(base_folder, tmp_path):
    from workbench.core.models.catalog import run_models

    _, final, _, _ = trained_adapter(base_folder, tmp_path)
    (tmp_path / "run2" / "final").mkdir(parents=True)
    (tmp_path / "run2" / "final" / "config.json").write_text("{}")
    entries = {entry.name: entry for entry in run_models(tmp_path)}
    assert entries["run run"].location == str(final) and "LoRA adapter" in entries["run run"].detail
    assert entries["run run2"].detail == "saved by a training run"


def test_masked_lm_lora_over_a_checkpoint_with_its_head_keeps_the_head_frozen(tmp_path):
    from transformers import AutoModelForMaskedLM

    folder = tmp_path / "mlm-base"
    tiny("bert", "masked-lm").save_pretrained(folder)
    model, _ = lora.apply(AutoModelForMaskedLM.from_pretrained(folder), spec_with({"r": 2}), "masked-lm")
    trainable = [name for name, parameter in model.named_parameters() if parameter.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)


def test_a_masked_lm_adapter_opens_with_the_masked_lm_head(base_folder, tmp_path):
    import torch
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from workbench.core.models.heads import head_kind
    from workbench.core.models.inspect import inspect_checkpoint
    from workbench.core.models.loading import LoadOptions, adapter_head, load_model

    model = AutoModelForMaskedLM.from_pretrained(base_folder)  # the checkpoint has no MLM head
    with pytest.raises(WorkbenchError, match="head would stay random") as caught:
        lora.apply(model, spec_with({"r": 2}, name=str(base_folder)), "masked-lm")
    assert 'modules_to_save = ["cls"]' in caught.value.hint
    spec = spec_with({"r": 2, "modules_to_save": ["cls"]}, name=str(base_folder))
    model, counts = lora.apply(model, spec, "masked-lm")
    assert any("cls" in name for name, p in model.named_parameters() if p.requires_grad)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.fill_(0.1)
    final = tmp_path / "mlm" / "final"
    final.mkdir(parents=True)
    lora.save_adapter(model, final, model.state_dict(), spec)
    assert adapter_head(final) == "masked-lm"
    loaded = load_model(inspect_checkpoint(final), LoadOptions(head_kind("masked-lm")))
    batch = AutoTokenizer.from_pretrained(base_folder)(["the [MASK] was good"], return_tensors="pt")
    model.eval()
    with torch.no_grad():
        assert torch.allclose(loaded.model(**batch).logits, model(**batch).logits, atol=1e-5)
