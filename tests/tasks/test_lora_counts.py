"""LoRA parameter counts before a run (issue 16): `lora.planned_counts` builds the task's model from its
config on the meta device and puts the adapter on it as the run does; its counts must equal those of the
real run's `lora.apply` on the loaded checkpoint. The memory estimate then trains only those."""

from __future__ import annotations

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.tasks import get_task, lora
from workbench.training import estimate
from workbench.training.spec import default_spec


def saved(tmp_path, family: str, head: str) -> str:
    """A tiny checkpoint made from a config, saved as safetensors (as a downloaded one is)."""
    from workbench.core.models.create import create_model

    folder = tmp_path / f"{family}-{head}"
    create_model(family, "tiny", head).save_pretrained(folder)
    return str(folder)


def spec_for(folder: str, head: str, table: dict, num_labels: int = 0) -> dict:
    spec = default_spec(model=folder, head=head)
    spec["model"].update(lora=table, num_labels=num_labels)
    return spec


def real_counts(spec: dict, folder: str) -> lora.Counts:
    """What the run does: the checkpoint loaded with the task's head, then the adapter put on it."""
    task = get_task(spec["model"]["head"])
    model = task.load_model(spec, folder, lora.spec_head_labels(spec))
    _, counts = lora.apply(model, spec, task.name)
    return counts


@pytest.mark.parametrize(
    ("family", "saved_head", "head", "table", "num_labels"),
    [
        ("bert", "sequence-classification", "sequence-classification", {"r": 8}, 3),
        ("bert", "sequence-classification", "sequence-classification", {"r": 8}, 0),  # the config's own head
        # an encoder-only checkpoint: the new classifier is fresh, peft trains it in full
        ("bert", "base", "token-classification", {"r": 4, "target_modules": ["query", "key", "value"]}, 5),
        ("bert", "base", "question-answering", {"r": 4, "bias": "lora_only"}, 0),
        ("bert", "masked-lm", "masked-lm", {"r": 2, "target_modules": "all-linear"}, 0),
        ("gpt2", "causal-lm", "causal-lm", {"r": 8}, 0),  # Conv1D (fan_in_fan_out) and tied embeddings
        ("gpt2", "causal-lm", "causal-lm", {"r": 4, "use_dora": True, "modules_to_save": ["ln_f"]}, 0),
        ("t5", "seq2seq-lm", "seq2seq", {"r": 4}, 0),
    ],
)
def test_meta_device_counts_equal_the_real_runs(tmp_path, family, saved_head, head, table, num_labels):
    folder = saved(tmp_path, family, saved_head)
    spec = spec_for(folder, head, table, num_labels)
    planned = lora.planned_counts(spec, folder)
    assert planned == real_counts(spec, folder)
    assert 0 < planned.trainable < planned.total


def test_the_run_refuses_what_the_count_refuses_with_the_same_message(tmp_path):
    folder = saved(tmp_path, "bert", "sequence-classification")
    spec = spec_for(folder, "sequence-classification", {"r": 8, "target_modules": ["query", "nope"]}, 2)
    with pytest.raises(WorkbenchError) as planned:
        lora.planned_counts(spec, folder)
    with pytest.raises(WorkbenchError) as real:
        real_counts(spec, folder)
    assert planned.value.message == real.value.message
    assert "'nope' matches no module" in planned.value.message and "query" in planned.value.hint


def test_labels_come_from_the_spec_for_classification_heads_only():
    spec = {"model": {"head": "sequence-classification", "num_labels": 0, "id2label": {"0": "no", "1": "yes"}}}
    assert lora.spec_head_labels(spec).num_labels == 2
    assert lora.spec_head_labels(spec).id2label == {0: "no", 1: "yes"}
    assert lora.spec_head_labels({"model": {"head": "causal-lm", "num_labels": 3}}).num_labels == 0
    assert lora.spec_head_labels({"model": {"head": "token-classification", "num_labels": 1}}).regression


# -- the memory estimate -------------------------------------------------------------------------


def test_the_estimate_trains_only_the_adapter(tmp_path, monkeypatch):
    monkeypatch.setattr(estimate, "free_memory", lambda use_cpu: (64 * estimate.GIB, "CPU RAM"))
    folder = saved(tmp_path, "bert", "sequence-classification")
    full = estimate.estimate_memory(spec_for(folder, "sequence-classification", {}, 2))
    assert full.lora == "" and full.lora_counts is None
    spec = spec_for(folder, "sequence-classification", {"r": 8}, 2)
    adapted = estimate.estimate_memory(spec)
    counts = lora.planned_counts(spec, folder)
    assert adapted.lora_counts == counts and adapted.params == counts.total
    assert adapted.lora == f"LoRA r=8: {counts.describe()}"
    assert f"{counts.trainable:,} trained" in adapted.detail
    # frozen weights still cost their 4 bytes; only the trained ones carry gradients and AdamW's moments
    assert counts.total * 4 < adapted.need_bytes < full.need_bytes
    saved_bytes = (full.need_bytes - adapted.need_bytes) / 1.1
    assert saved_bytes == pytest.approx(
        12 * full.params - 12 * counts.trainable - 4 * (counts.total - full.params), rel=1e-6
    )


def test_counts_are_cached_per_model_task_labels_and_table(tmp_path, monkeypatch):
    monkeypatch.setattr(estimate, "free_memory", lambda use_cpu: (64 * estimate.GIB, "CPU RAM"))
    folder = saved(tmp_path, "bert", "sequence-classification")
    spec = spec_for(folder, "sequence-classification", {"r": 8}, 2)
    calls = []
    real = lora.planned_counts

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(lora, "planned_counts", counting)
    assert not estimate.lora_counted(spec)
    first = estimate.estimate_memory(spec)
    spec["training"]["per_device_train_batch_size"] = 2  # another estimate, the same counts
    assert estimate.lora_counted(spec) and estimate.estimate_memory(spec).lora_counts == first.lora_counts
    assert len(calls) == 1
    spec["model"]["lora"] = {"r": 16}
    assert estimate.estimate_memory(spec).lora_counts.trainable > first.lora_counts.trainable
    spec["model"]["num_labels"] = 4
    estimate.estimate_memory(spec)
    assert len(calls) == 3


def test_a_bad_table_or_a_missing_model_reads_as_a_message(tmp_path, monkeypatch):
    monkeypatch.setattr(estimate, "free_memory", lambda use_cpu: (64 * estimate.GIB, "CPU RAM"))
    folder = saved(tmp_path, "bert", "sequence-classification")
    bad = estimate.estimate_memory(spec_for(folder, "sequence-classification", {"r": 8, "lora_dropout": 2}, 2))
    assert bad.lora_counts is None and bad.need_bytes  # the full-training estimate still shows
    assert bad.lora.startswith("LoRA r=8: model.lora.lora_dropout: must be a number from 0 to below 1")
    elsewhere = estimate.estimate_memory(spec_for("no-org/not-downloaded", "sequence-classification", {"r": 8}))
    assert "not on this machine" in elsewhere.lora and "Traceback" not in elsewhere.lora
    quick = estimate.estimate_memory(spec_for(folder, "sequence-classification", {"r": 4}, 2), count_lora=False)
    assert quick.lora == f"LoRA r=4: {estimate.LORA_COUNTING}"
