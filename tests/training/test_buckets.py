"""Padding to a few bucket lengths, so a compiled model (static shapes) has a graph per bucket only."""

from __future__ import annotations

import random

import pytest

from workbench.training.configure import BucketCollator, auto_buckets, make_collator, pad_buckets
from workbench.training.spec import default_spec, validate_spec


def test_auto_buckets_end_at_the_longest_sequence():
    assert auto_buckets(128) == [32, 64, 96, 128]
    assert auto_buckets(100) == [32, 64, 96, 100]
    assert auto_buckets(384) == [32, 64, 96, 128, 192, 256, 384]
    assert auto_buckets(16) == [16]
    sizes = auto_buckets(4096)
    assert sizes[-1] == 4096 and all(b / a <= 1.5 for a, b in zip(sizes[3:], sizes[4:], strict=False))


def test_buckets_apply_when_compiling_or_when_asked():
    spec = default_spec()
    spec["model"]["compile_dynamic"] = False  # static shapes: one graph per bucket
    assert pad_buckets(spec, compiling=False) == []
    assert pad_buckets(spec, compiling=True) == [32, 64, 96, 128]
    spec["data"]["pad_to_buckets"] = [16, 48, 512]
    assert pad_buckets(spec, compiling=False) == [16, 48, 128]  # capped by data.max_length
    spec["model"]["head"] = "causal-lm"
    spec["data"]["block_size"] = 64
    assert pad_buckets(spec, compiling=True) == [16, 48, 64]  # a language model's block is the longest


def test_the_spec_refuses_buckets_out_of_order():
    spec = default_spec(data="train.csv")
    spec["data"]["pad_to_buckets"] = [64, 32]
    fields = {error.field for error in validate_spec(spec, check_files=False)}
    assert "data.pad_to_buckets" in fields
    spec["data"]["pad_to_buckets"] = [32, 64]
    assert "data.pad_to_buckets" not in {error.field for error in validate_spec(spec, check_files=False)}


@pytest.mark.parametrize("head", ["sequence-classification", "token-classification"])
def test_every_padded_batch_has_a_bucket_length(tiny_model_dir, head):
    from transformers import AutoTokenizer

    from workbench.core.tasks import get_task

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    spec = default_spec(model=str(tiny_model_dir), head=head)
    spec["model"]["compile_dynamic"] = False
    spec["data"]["max_length"] = 100
    collator = make_collator(get_task(head), tokenizer, spec, compiling=True)
    assert isinstance(collator, BucketCollator) and collator.buckets == [32, 64, 96, 100]
    rng = random.Random(0)
    seen = set()
    for _ in range(40):
        lengths = [rng.randint(2, 100) for _ in range(rng.randint(1, 8))]
        features = [
            {"input_ids": [5] * n, "attention_mask": [1] * n, "labels": 1 if head[0] == "s" else [0] * n}
            for n in lengths
        ]
        batch = collator(features)
        width = batch["input_ids"].shape[1]
        assert width == min(b for b in collator.buckets if b >= max(lengths))
        assert batch["attention_mask"].shape[1] == width
        if head == "token-classification":
            assert batch["labels"].shape[1] == width
        seen.add(width)
    assert seen <= set(collator.buckets) and len(seen) >= 3


def test_eager_runs_pad_to_the_longest_row(tiny_model_dir):
    from transformers import AutoTokenizer

    from workbench.core.tasks import get_task

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    spec = default_spec(model=str(tiny_model_dir))
    collator = make_collator(get_task("sequence-classification"), tokenizer, spec, compiling=False)
    assert not isinstance(collator, BucketCollator)
    batch = collator([{"input_ids": [5] * n, "labels": 0} for n in (3, 11)])
    assert batch["input_ids"].shape[1] == 16  # training.pad_to_multiple_of = 8


def test_a_dynamic_compile_pads_to_the_specs_multiple_and_has_no_buckets(tiny_model_dir):
    from transformers import AutoTokenizer

    from workbench.core.tasks import get_task
    from workbench.training.configure import compile_settings, compiles_dynamic

    spec = default_spec(model=str(tiny_model_dir))
    spec["model"]["torch_compile"] = True
    assert compiles_dynamic(spec)  # the default
    assert compile_settings(spec["model"], "cuda", dynamic=True)["dynamic"] is None
    assert pad_buckets(spec, compiling=True) == []
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    collator = make_collator(get_task("sequence-classification"), tokenizer, spec, compiling=True)
    assert not isinstance(collator, BucketCollator)
    widths = {collator([{"input_ids": [5] * n, "labels": 0}])["input_ids"].shape[1] for n in (3, 17, 40)}
    assert widths == {8, 24, 40}  # training.pad_to_multiple_of, 8 by default
    spec["training"]["pad_to_multiple_of"] = 16
    collator = make_collator(get_task("sequence-classification"), tokenizer, spec, compiling=True)
    widths = {collator([{"input_ids": [5] * n, "labels": 0}])["input_ids"].shape[1] for n in (3, 17, 40)}
    assert widths == {16, 32, 48}
    spec["model"]["compile_dynamic"] = False
    assert not compiles_dynamic(spec) and compile_settings(spec["model"], "cuda")["dynamic"] is False
    spec["model"].update(compile_dynamic=True, head="causal-lm")
    assert not compiles_dynamic(spec)  # blocks of one length: static shapes


def test_marked_sequence_lengths_share_one_compiled_graph(tiny_model_dir):
    """What model.compile_dynamic relies on: after `mark_sequence_dynamic`, dynamo traces the task's model
    once for every padded length (the eager backend: the tracing, not inductor, decides the graphs)."""
    import torch
    from torch._dynamo.utils import counters

    from workbench.core.tasks import get_task
    from workbench.core.tasks.base import HeadLabels
    from workbench.training.configure import mark_sequence_dynamic

    spec = default_spec(model=str(tiny_model_dir))
    # The task sets config.problem_type up front: set by the first forward, it fails a guard (a second compile).
    model = get_task("sequence-classification").load_model(spec, str(tiny_model_dir), HeadLabels(2))
    assert model.config.problem_type == "single_label_classification"
    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(model, backend="eager", dynamic=None)
    vocab = model.config.vocab_size
    lengths = [size for size in (8, 16, 24, 32, 48, 64) if size <= model.config.max_position_embeddings]
    assert len(lengths) >= 3
    for length in lengths:
        batch = {
            "input_ids": torch.randint(5, vocab, (4, length)),
            "attention_mask": torch.ones(4, length, dtype=torch.long),
            "labels": torch.zeros(4, dtype=torch.long),
        }
        mark_sequence_dynamic(batch)
        compiled(**batch).loss.backward()
    assert counters["stats"]["unique_graphs"] == 1
    torch._dynamo.reset()
