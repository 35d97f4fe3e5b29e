"""Reading checkpoints without loading weights; heads from the auto mappings; what each head loads."""

from __future__ import annotations

import json

import pytest

from workbench.core.errors import HubOfflineError, WorkbenchError
from workbench.core.models import catalog
from workbench.core.models.heads import HEADS_BY_KEY, head_kind, heads_for
from workbench.core.models.inspect import inspect_checkpoint, read_safetensors_header
from workbench.core.models.labels import Labels, labels_from_dataset, parse_labels
from workbench.core.models.loading import analyse_head, analyse_heads


def test_embedded_summary_reads_config_header_and_tokenizer(embedded_path):
    info = inspect_checkpoint(embedded_path, name="embedded")
    summary = info.summary()
    assert summary["model_type"] == "bert"
    assert summary["architectures"] == ["BertModel"]
    assert info.shape == {
        "layers": 6,
        "hidden size": 384,
        "attention heads": 12,
        "vocab size": 30522,
        "max positions": 512,
    }
    assert summary["dtype"] == "F32"
    assert summary["weight_format"] == "safetensors"
    assert summary["size_on_disk"] == (embedded_path / "model.safetensors").stat().st_size
    assert 22_000_000 < summary["parameters_in_checkpoint"] < 23_000_000
    assert summary["tokenizer_fast"] is True and summary["tokenizer_class"]
    assert info.warnings == []


def test_safetensors_header_gives_dtypes_and_shapes(embedded_path):
    tensors = read_safetensors_header(embedded_path / "model.safetensors")
    assert tensors["embeddings.word_embeddings.weight"] == ("F32", (30522, 384))


def test_heads_come_from_the_auto_mappings():
    from transformers.models.auto import modeling_auto

    bert = dict((head.key, name) for head, name in heads_for("bert"))
    assert bert["sequence-classification"] == modeling_auto.MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES["bert"]
    assert "seq2seq-lm" not in bert and "masked-lm" in bert
    t5 = dict((head.key, name) for head, name in heads_for("t5"))
    assert t5["seq2seq-lm"] == "T5ForConditionalGeneration"
    gpt2 = dict((head.key, name) for head, name in heads_for("gpt2"))
    assert gpt2["causal-lm"] == "GPT2LMHeadModel" and "masked-lm" not in gpt2


def test_embedded_encoder_heads_say_what_is_new_and_unused(embedded_path):
    info = inspect_checkpoint(embedded_path)
    reports = {report.head.key: report for report in analyse_heads(info)}
    assert reports["base"].status == "all from checkpoint" and reports["base"].new == []
    # The checkpoint also stores the position_ids buffer (1 x 512), which is not a parameter.
    assert reports["base"].total_params == info.weights.parameter_count - 512
    classification = reports["sequence-classification"]
    assert classification.new == ["classifier.bias", "classifier.weight"]
    assert classification.head_params == 384 * 2 + 2 and classification.status == "new head (random)"
    masked = reports["masked-lm"]
    assert masked.head_all_new  # the encoder has no masked-LM weights: fill-mask is noise until trained
    assert "pooler.dense.weight" in masked.unused
    assert "cls.predictions.transform.dense.weight" in masked.new


def test_label_count_mismatch_is_reported_as_fresh_head(tiny_models):
    info = inspect_checkpoint(tiny_models["bert-sentiment"])
    assert info.id2label == {0: "negative", 1: "positive"}
    same = analyse_head(info, head_kind("sequence-classification"))
    assert same.status == "all from checkpoint" and same.mismatched == []
    report = analyse_head(info, head_kind("sequence-classification"), labels=parse_labels("a, b, c"))
    assert ("classifier.weight", (2, 32), (3, 32)) in report.mismatched
    assert report.head_all_new and report.new_params == 3 * 32 + 3


@pytest.mark.parametrize(
    "folder, message",
    [
        ("no-config", "has no config.json"),
        ("corrupt-config", "line 3, column"),
        ("unknown-arch", None),
        ("remote-code", None),
        ("no-weights", None),
    ],
)
def test_bad_checkpoints_are_explained(broken_folders, folder, message):
    if message:
        with pytest.raises(WorkbenchError, match=message):
            inspect_checkpoint(broken_folders[folder])
        return
    info = inspect_checkpoint(broken_folders[folder])
    text = " ".join(info.warnings)
    expected = {"unknown-arch": "Unknown architecture", "remote-code": "trust_remote_code", "no-weights": "No weights"}[
        folder
    ]
    assert expected in text


def test_missing_path_and_file_path(tmp_path):
    with pytest.raises(WorkbenchError, match="does not exist"):
        inspect_checkpoint(tmp_path / "missing")
    file = tmp_path / "model.safetensors"
    file.write_bytes(b"x")
    with pytest.raises(WorkbenchError, match="is a file"):
        inspect_checkpoint(file)


def test_truncated_safetensors_is_named(tmp_path, tiny_models):
    import shutil

    folder = tmp_path / "truncated"
    shutil.copytree(tiny_models["bert-sentiment"], folder)
    (folder / "model.safetensors").write_bytes(b"\x10\x00")
    with pytest.raises(WorkbenchError, match="model.safetensors is truncated"):
        inspect_checkpoint(folder)


def test_hub_id_while_offline_fails_at_once():
    with pytest.raises(HubOfflineError, match="not reachable"):
        catalog.resolve("someone/some-model")
    with pytest.raises(WorkbenchError, match="does not exist"):
        catalog.resolve("./no/such/folder")


def test_catalog_lists_embedded_runs_and_cache(tmp_path, tiny_models, embedded_path):
    import shutil

    runs = tmp_path / "runs"
    shutil.copytree(tiny_models["bert-sentiment"], runs / "2026-01-01-abc" / "final")
    (runs / "unfinished").mkdir(parents=True)
    cache = tmp_path / "hub"
    snapshot = cache / "models--org--tiny" / "snapshots" / "0123abcd"
    shutil.copytree(tiny_models["gpt2"], snapshot)
    (cache / "models--org--tiny" / "refs").mkdir()
    (cache / "models--org--tiny" / "refs" / "main").write_text("0123abcd")
    (cache / "models--org--tiny" / "blobs").mkdir()
    entries = catalog.list_catalog(runs_dir=runs, folders=[tiny_models["t5"]], cache_dir=cache)
    by_source = {entry.source: entry for entry in entries}
    assert entries[0].source == "embedded" and entries[0].path == embedded_path
    assert by_source["run"].name == "run 2026-01-01-abc"
    assert by_source["folder"].name == "t5"
    assert by_source["cache"].name == "org/tiny" and by_source["cache"].path == snapshot


def test_path_completion_lists_folders(tmp_path):
    (tmp_path / "models" / "bert-tiny").mkdir(parents=True)
    (tmp_path / "models" / "bert-small").mkdir()
    (tmp_path / "models" / "notes.txt").write_text("")
    prefix = str(tmp_path / "models" / "bert-")
    assert catalog.complete_path(prefix) == [f"{prefix}small/", f"{prefix}tiny/"]
    assert catalog.complete_path(str(tmp_path / "models") + "/") == [
        f"{tmp_path}/models/bert-small/",
        f"{tmp_path}/models/bert-tiny/",
    ]


def test_label_parsing_and_dataset_labels():
    assert parse_labels("neg, pos").id2label == {0: "neg", 1: "pos"}
    assert parse_labels("1=pos, 0=neg").names == ("neg", "pos")
    assert len(parse_labels("3")) == 3
    for bad, message in [
        ("", "empty"),
        ("a,,b", "Label 2 is empty"),
        ("a, a", "unique"),
        ("0=a, 2=b", "0..1"),
        ("0=a, b", "Mix"),
        ("x=a", "whole number"),
    ]:
        with pytest.raises(WorkbenchError, match=message):
            parse_labels(bad)
    assert labels_from_dataset({"path": "mrpc", "label_names": ["not_equivalent", "equivalent"]}) == Labels(
        ("not_equivalent", "equivalent")
    )
    with pytest.raises(WorkbenchError, match="no label names"):
        labels_from_dataset({"path": "x"})


def test_every_head_kind_has_a_cli_key():
    assert set(HEADS_BY_KEY) == {
        "base",
        "sequence-classification",
        "token-classification",
        "question-answering",
        "multiple-choice",
        "masked-lm",
        "causal-lm",
        "seq2seq-lm",
    }
    with pytest.raises(WorkbenchError, match="Unknown head"):
        head_kind("summarisation")


def test_sharded_index_with_missing_shard(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": "model-00001.safetensors"}}))
    with pytest.raises(WorkbenchError, match="missing: model-00001.safetensors"):
        inspect_checkpoint(tmp_path)


def test_hub_id_when_online_downloads_config_and_safetensors_only(monkeypatch, tiny_models):
    import huggingface_hub

    from workbench.core.hub import status as hub_status

    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(hub_status, "_status", hub_status.HubStatus.ONLINE)
    monkeypatch.setattr(catalog, "cached_models", lambda cache_dir=None: [])
    calls = []

    def fake_snapshot_download(repo_id, allow_patterns):
        calls.append((repo_id, allow_patterns))
        return str(tiny_models["gpt2"])

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    folder, name = catalog.resolve("someone/tiny-gpt2")
    assert folder == tiny_models["gpt2"] and name == "someone/tiny-gpt2"
    assert calls[0][0] == "someone/tiny-gpt2"
    assert "*.bin" not in calls[0][1] and "*.safetensors" in calls[0][1]  # pickle is never fetched


def test_labels_typed_for_classification_do_not_resize_the_qa_head(tiny_models):
    """Issue 22 item 12: the QA head's parameter count changed with the class labels."""
    info = inspect_checkpoint(tiny_models["bert-qa"])
    qa = head_kind("question-answering")
    plain = analyse_head(info, qa)
    with_labels = analyse_head(info, qa, labels=parse_labels("a, b, c, d, e"))
    assert with_labels.total_params == plain.total_params and with_labels.head_params == 32 * 2 + 2
    assert with_labels.mismatched == [] and with_labels.status == "all from checkpoint"
    classify = analyse_head(info, head_kind("sequence-classification"), labels=parse_labels("a, b, c, d, e"))
    assert classify.head_params == 32 * 5 + 5  # the classifier is sized by the labels
