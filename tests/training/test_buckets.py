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
