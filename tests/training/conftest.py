"""Fixtures for the training engine: a tiny BERT made from a config and a few hundred rows of text."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

WORDS_POSITIVE = ["good", "great", "fine", "nice", "happy"]
WORDS_NEGATIVE = ["bad", "awful", "poor", "terrible", "sad"]
FILLER = ["the", "a", "movie", "film", "plot", "actor", "was", "is", "very", "not"]


@pytest.fixture(autouse=True)
def one_thread_per_run(monkeypatch):
    """Tiny models train fastest on one thread, and threads that spin on a busy 2-core box crawl."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide BERT with a WordPiece tokenizer over a tiny vocabulary, saved like a Hub model."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS_POSITIVE + WORDS_NEGATIVE + FILLER
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # transformers 5 ignores `vocab_file` here (every word became [UNK]): the vocabulary is passed itself.
    BertTokenizerFast(vocab={word: index for index, word in enumerate(vocab)}).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,  # the spec default data.max_length fits (the spec checks it)
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def sentiment_rows(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        positive = rng.random() < 0.5
        words = rng.sample(WORDS_POSITIVE if positive else WORDS_NEGATIVE, 2)
        filler = rng.sample(FILLER, rng.randint(1, 6))
        rows.append((" ".join(filler + words), "pos" if positive else "neg"))
    return rows


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tiny-data")
    paths = {}
    for name, count, seed in (("train", 300, 0), ("dev", 60, 1)):
        path = folder / f"{name}.csv"
        path.write_text(
            "text,label\n" + "".join(f"{text},{label}\n" for text, label in sentiment_rows(count, seed)),
            encoding="utf-8",
        )
        paths[name] = path
    return paths


@pytest.fixture
def tiny_spec(tiny_model_dir, tiny_data) -> dict:
    from workbench.training.spec import default_spec

    spec = default_spec(model=str(tiny_model_dir), data=str(tiny_data["train"]))
    spec["data"]["validation_file"] = str(tiny_data["dev"])
    spec["training"].update(
        learning_rate=1e-3,
        max_steps=12,
        logging_steps=2,
        per_device_train_batch_size=16,
        save_steps=6,
        metrics=["accuracy", "f1"],
    )
    spec["monitor"]["system_sample_interval_s"] = 0.5
    return spec
