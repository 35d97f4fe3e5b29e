"""The core's unpacked view equals transformers' own output, on random texts, for three tokenizer kinds."""

from __future__ import annotations

import random

import pytest

from tests.tokenizer.conftest import random_text
from workbench.core.errors import WorkbenchError
from workbench.core.tokenizer.analysis import tokenize
from workbench.core.tokenizer.options import TokenizeOptions

KINDS = ["wordpiece", "bytelevel-bpe", "unigram"]

OPTION_CASES = [
    TokenizeOptions(),
    TokenizeOptions(add_special_tokens=False),
    TokenizeOptions(truncation="longest_first", max_length=12),
    TokenizeOptions(truncation="longest_first", max_length=12, stride=3),
    TokenizeOptions(truncation="only_first", max_length=16, stride=2, truncation_side="left"),
    TokenizeOptions(truncation="longest_first", max_length=10, return_overflowing_tokens=False, padding="max_length"),
    TokenizeOptions(padding="max_length", max_length=60),
    TokenizeOptions(return_attention_mask=False),
]


def reference(hf_tokenizer, text, pair, options: TokenizeOptions):
    """What a user gets from transformers directly, with the same options."""
    hf_tokenizer.truncation_side = options.truncation_side
    try:
        return hf_tokenizer(text, pair, **options.call_kwargs())
    finally:
        hf_tokenizer.truncation_side = "right"


def as_rows(value):
    return value if value and isinstance(value[0], list) else [value]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", range(len(OPTION_CASES)))
def test_windows_ids_offsets_masks_equal_transformers(kind, case, hf_tokenizers, loaded_tokenizers):
    options = OPTION_CASES[case]
    rng = random.Random(case * 31 + len(kind))
    for trial in range(4):
        text = random_text(rng, rng.randint(1, 40))
        pair = random_text(rng, rng.randint(1, 6)) if trial % 2 else None
        if options.truncation == "only_first" and pair is not None:
            pair = pair[:6]
        try:
            expected = reference(hf_tokenizers[kind], text, pair, options)
        except Exception:  # noqa: BLE001 - then ours must refuse too, with a message
            with pytest.raises(WorkbenchError):
                tokenize(loaded_tokenizers[kind], text, pair, options)
            continue
        result = tokenize(loaded_tokenizers[kind], text, pair, options)
        assert [[t.id for t in w.tokens] for w in result.windows] == as_rows(expected["input_ids"])
        assert [[(t.start, t.end) for t in w.tokens] for w in result.windows] == [
            [tuple(o) for o in row] for row in as_rows(expected["offset_mapping"])
        ]
        if "attention_mask" in expected:
            assert [[t.attention for t in w.tokens] for w in result.windows] == as_rows(expected["attention_mask"])
        else:
            assert all(t.attention is None for w in result.windows for t in w.tokens)
        if "token_type_ids" in expected:
            assert [[t.type_id for t in w.tokens] for w in result.windows] == as_rows(expected["token_type_ids"])
        for row, window in enumerate(result.windows):
            assert [t.word for t in window.tokens] == expected.word_ids(row)
            assert [t.text for t in window.tokens] == expected.tokens(row)


@pytest.mark.parametrize("kind", KINDS)
def test_counts_and_unknown_and_special_marks(kind, loaded_tokenizers, hf_tokenizers):
    text = "the tokenizer ☃ sees café"
    result = tokenize(loaded_tokenizers[kind], text)
    tokens = result.windows[0].tokens
    hf = hf_tokenizers[kind]
    assert result.characters == len(text)
    assert result.words == 5
    assert result.total_tokens == len(hf(text, add_special_tokens=False)["input_ids"])
    assert result.tokens_per_word == pytest.approx(result.total_tokens / 5)
    assert [t.special for t in tokens] == [
        bool(m) for m in hf(text, return_special_tokens_mask=True)["special_tokens_mask"]
    ]
    if hf.unk_token_id is not None and kind != "bytelevel-bpe":
        assert any(t.unknown and text[t.start : t.end] == "☃" for t in tokens)
    assert not any(t.unknown for t in tokens if t.sequence is None)


def test_truncation_without_overflow_names_the_dropped_characters(loaded_tokenizers):
    text = "the tokenizer splits words into pieces and the model sees ids"
    options = TokenizeOptions(truncation="longest_first", max_length=6, return_overflowing_tokens=False)
    result = tokenize(loaded_tokenizers["wordpiece"], text, None, options)
    assert len(result.windows) == 1
    ((start, end),) = result.truncated[0]
    last_kept = max(t.end for t in result.windows[0].tokens if t.sequence == 0)
    assert text[last_kept:start].strip() == "" and end == len(text)
    left = tokenize(loaded_tokenizers["wordpiece"], text, None, options.with_changes(truncation_side="left"))
    ((start, end),) = left.truncated[0]
    assert start == 0 and text[end:].startswith(" ") is False


def test_bad_options_are_named_not_a_panic(loaded_tokenizers):
    text = "the tokenizer splits words into pieces"
    with pytest.raises(WorkbenchError, match="stride"):
        tokenize(
            loaded_tokenizers["wordpiece"],
            text,
            None,
            TokenizeOptions(truncation="longest_first", max_length=4, stride=4),
        )
    with pytest.raises(WorkbenchError):
        # The Rust backend panics here (stride >= room left after special tokens); we report it.
        tokenize(
            loaded_tokenizers["wordpiece"],
            text,
            None,
            TokenizeOptions(truncation="longest_first", max_length=4, stride=3),
        )
    with pytest.raises(WorkbenchError, match="only_second"):
        tokenize(loaded_tokenizers["wordpiece"], text, None, TokenizeOptions(truncation="only_second", max_length=8))
