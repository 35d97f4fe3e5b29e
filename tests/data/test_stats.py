"""Statistics: label distribution, lengths, histogram, truncation share, padding waste."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.data import stats
from workbench.core.tokenizer.loader import load_hf_tokenizer as load_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("")  # the embedded default model's WordPiece tokenizer


def test_label_distribution_names_class_labels():
    import datasets

    data = datasets.Dataset.from_dict({"label": [0, 1, 1, 2, 1]}).cast_column(
        "label", datasets.ClassLabel(names=["a", "b", "c"])
    )
    assert stats.label_distribution(data, "label") == [("b", 3), ("a", 1), ("c", 1)]
    strings = datasets.Dataset.from_dict({"label": ["pos", None, "neg", "pos"]})
    assert stats.label_distribution(strings, "label") == [("pos", 2), ("neg", 1), ("∅ (empty)", 1)]


def test_char_and_token_lengths(tokenizer):
    import datasets

    data = datasets.Dataset.from_dict({"text": ["hello world", "", None, "a b c d"], "pair": ["x", "y", "z", "w"]})
    assert stats.char_lengths(data, "text").tolist() == [11, 0, 0, 7]
    # [CLS] hello world [SEP]; [CLS] [SEP]; [CLS] [SEP]; [CLS] a b c d [SEP]
    assert stats.token_lengths(data, tokenizer, "text").tolist() == [4, 2, 2, 6]
    with_pair = stats.token_lengths(data, tokenizer, "text", "pair").tolist()
    assert with_pair == [6, 4, 4, 8]  # + the pair's token and a second [SEP]
    direct = [len(tokenizer("hello world", "x")["input_ids"])]
    assert with_pair[:1] == direct


def test_token_lengths_ignore_the_tokenizers_own_truncation(tokenizer):
    import datasets

    long_text = "word " * 1000
    data = datasets.Dataset.from_dict({"text": [long_text]})
    tokenizer("short", truncation=True, max_length=8)  # leaves truncation switched on in the backend
    assert stats.token_lengths(data, tokenizer, "text").tolist() == [1002]


def test_histogram_and_summary():
    lengths = np.array([1, 2, 2, 3, 10])
    summary = stats.summarize(lengths, bins=5)
    assert (summary.minimum, summary.maximum, summary.median) == (1, 10, 2.0)
    assert summary.histogram.edges == [1, 3, 5, 7, 9, 11]
    assert summary.histogram.counts == [3, 1, 0, 0, 1]
    assert sum(summary.histogram.counts) == len(lengths)


def test_truncation_and_padding_waste():
    lengths = np.array([2, 4, 6, 8])
    assert stats.truncated_share(lengths, 5) == 0.5
    waste = stats.padding_waste(lengths, batch_size=2, max_length=10)
    # dynamic: batches [2,4] -> 8 cells, [6,8] -> 16 cells; 20 real of 24
    assert waste.dynamic == pytest.approx(1 - 20 / 24)
    assert waste.grouped == pytest.approx(1 - 20 / 24)  # already sorted
    assert waste.fixed == pytest.approx(1 - 20 / 40)
    shuffled = stats.padding_waste(np.array([2, 8, 4, 6]), batch_size=2, max_length=10)
    assert shuffled.dynamic == pytest.approx(1 - 20 / 28) and shuffled.grouped == pytest.approx(1 - 20 / 24)
    capped = stats.padding_waste(lengths, batch_size=4, max_length=5)  # truncation first: 2,4,5,5
    assert capped.fixed == pytest.approx(1 - 16 / 20)
