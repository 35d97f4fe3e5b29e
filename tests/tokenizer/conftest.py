"""Small tokenizers of the three kinds, built with the `tokenizers` library once per session."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

WORDS = (
    "the a tokenizer splits words into pieces model sees ids offsets attention mask padding truncation"
    " stride window batch Hello World café naïve ÉTÉ Zürich don't it's 2026 3.14 co-operate"
).split()


def corpus(lines: int = 400, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14))) for _ in range(lines)]


def random_text(rng: random.Random, words: int) -> str:
    """Words, punctuation, odd spacing, accents and characters no small vocabulary knows."""
    extra = ["☃", "\t", "  ", "!", ",", "—", "🙂", "über", "ﬁne"]
    pieces = [rng.choice(WORDS + extra) for _ in range(words)]
    return "".join(piece + rng.choice([" ", " ", " ", "", "\n"]) for piece in pieces)


def _wordpiece():
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer.train_from_iterator(
        corpus(), trainers.WordPieceTrainer(vocab_size=160, special_tokens=specials, show_progress=False)
    )
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tokenizer.decoder = decoders.WordPiece()
    return tokenizer, dict(
        unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]"
    )


def _byte_level_bpe():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    specials = ["<s>", "<pad>", "</s>"]
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus(), trainer)
    tokenizer.post_processor = processors.RobertaProcessing(
        ("</s>", 2), ("<s>", 0), trim_offsets=True, add_prefix_space=False
    )
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer, dict(bos_token="<s>", eos_token="</s>", pad_token="<pad>", cls_token="<s>", sep_token="</s>")


def _unigram():
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    specials = ["<pad>", "</s>", "<unk>"]
    trainer = trainers.UnigramTrainer(vocab_size=150, special_tokens=specials, unk_token="<unk>", show_progress=False)
    tokenizer.train_from_iterator(corpus(), trainer)
    eos = tokenizer.token_to_id("</s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B:1 </s>:1", special_tokens=[("</s>", eos)]
    )
    tokenizer.decoder = decoders.Metaspace()
    return tokenizer, dict(unk_token="<unk>", pad_token="<pad>", eos_token="</s>")


BUILDERS = {"wordpiece": _wordpiece, "bytelevel-bpe": _byte_level_bpe, "unigram": _unigram}


def save_tokenizer(kind: str, folder: Path) -> Path:
    from transformers import PreTrainedTokenizerFast

    tokenizer, specials = BUILDERS[kind]()
    inputs = (
        ["input_ids", "token_type_ids", "attention_mask"] if kind == "wordpiece" else ["input_ids", "attention_mask"]
    )
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, model_max_length=64, model_input_names=inputs, **specials
    )
    wrapped.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tokenizer_dirs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tokenizers")
    return {kind: save_tokenizer(kind, root / kind) for kind in BUILDERS}


@pytest.fixture(scope="session")
def hf_tokenizers(tokenizer_dirs):
    """AutoTokenizer's own view of each small tokenizer: the reference the tests compare against."""
    from transformers import AutoTokenizer

    return {kind: AutoTokenizer.from_pretrained(str(path)) for kind, path in tokenizer_dirs.items()}


@pytest.fixture(scope="session")
def loaded_tokenizers(tokenizer_dirs):
    from workbench.core.tokenizer.loader import load_tokenizer

    return {kind: load_tokenizer(str(path)) for kind, path in tokenizer_dirs.items()}
