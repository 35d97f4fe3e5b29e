"""Tiny checkpoints made from configs (seeded), shared by the model tests of one session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TINY_BERT = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=128
)


@pytest.fixture(scope="session")
def embedded_path() -> Path:
    from workbench.core.embedded import embedded_model_path

    return embedded_model_path()


@pytest.fixture(scope="session")
def embedded_tokenizer(embedded_path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(embedded_path))


def _save(model, tokenizer, folder: Path) -> Path:
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, embedded_tokenizer) -> dict[str, Path]:
    """name -> folder: bert-sentiment (2 labels), bert-ner (BIO labels), bert-qa, bert-mlm, gpt2, t5."""
    import torch
    from transformers import (
        BertConfig,
        BertForMaskedLM,
        BertForQuestionAnswering,
        BertForSequenceClassification,
        BertForTokenClassification,
        GPT2Config,
        GPT2LMHeadModel,
        T5Config,
        T5ForConditionalGeneration,
    )

    root = tmp_path_factory.mktemp("tiny-models")
    vocab = len(embedded_tokenizer)
    folders = {}
    torch.manual_seed(0)
    sentiment = BertConfig(
        vocab_size=vocab, **TINY_BERT, id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1}
    )
    folders["bert-sentiment"] = _save(
        BertForSequenceClassification(sentiment), embedded_tokenizer, root / "bert-sentiment"
    )
    ner_labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    ner = BertConfig(
        vocab_size=vocab,
        **TINY_BERT,
        id2label=dict(enumerate(ner_labels)),
        label2id={n: i for i, n in enumerate(ner_labels)},
    )
    torch.manual_seed(1)
    folders["bert-ner"] = _save(BertForTokenClassification(ner), embedded_tokenizer, root / "bert-ner")
    torch.manual_seed(2)
    folders["bert-qa"] = _save(
        BertForQuestionAnswering(BertConfig(vocab_size=vocab, **TINY_BERT)), embedded_tokenizer, root / "bert-qa"
    )
    torch.manual_seed(3)
    folders["bert-mlm"] = _save(
        BertForMaskedLM(BertConfig(vocab_size=vocab, **TINY_BERT)), embedded_tokenizer, root / "bert-mlm"
    )
    torch.manual_seed(4)
    gpt2 = GPT2Config(
        vocab_size=vocab,
        n_embd=32,
        n_layer=2,
        n_head=2,
        n_positions=128,
        bos_token_id=embedded_tokenizer.cls_token_id,
        eos_token_id=embedded_tokenizer.sep_token_id,
    )
    folders["gpt2"] = _save(GPT2LMHeadModel(gpt2), embedded_tokenizer, root / "gpt2")
    torch.manual_seed(5)
    t5 = T5Config(
        vocab_size=vocab,
        d_model=32,
        d_ff=64,
        d_kv=16,
        num_layers=2,
        num_heads=2,
        pad_token_id=0,
        decoder_start_token_id=0,
        eos_token_id=embedded_tokenizer.sep_token_id,
    )
    folders["t5"] = _save(T5ForConditionalGeneration(t5), embedded_tokenizer, root / "t5")
    return folders


@pytest.fixture
def broken_folders(tmp_path, tiny_models) -> dict[str, Path]:
    """Folders for every bad input the Models pane must explain."""
    import shutil

    folders = {}
    folders["no-config"] = tmp_path / "no-config"
    folders["no-config"].mkdir()
    (folders["no-config"] / "weights.txt").write_text("not a model")
    folders["corrupt-config"] = tmp_path / "corrupt-config"
    folders["corrupt-config"].mkdir()
    (folders["corrupt-config"] / "config.json").write_text('{\n  "model_type": "bert",\n  "hidden_size": 32,,\n}\n')
    folders["no-weights"] = tmp_path / "no-weights"
    folders["no-weights"].mkdir()
    shutil.copy(tiny_models["bert-sentiment"] / "config.json", folders["no-weights"] / "config.json")
    folders["unknown-arch"] = tmp_path / "unknown-arch"
    folders["unknown-arch"].mkdir()
    (folders["unknown-arch"] / "config.json").write_text(json.dumps({"model_type": "frobnicator", "hidden_size": 8}))
    folders["remote-code"] = tmp_path / "remote-code"
    folders["remote-code"].mkdir()
    (folders["remote-code"] / "config.json").write_text(
        json.dumps(
            {"model_type": "frobnicator", "auto_map": {"AutoModel": "modeling_frob.FrobModel"}, "hidden_size": 8}
        )
    )
    return folders
