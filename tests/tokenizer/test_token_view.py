"""The token view's incremental drawing: what it reuses must be exactly what a fresh render draws."""

from __future__ import annotations

import random

import pytest

from tests.tokenizer.conftest import random_text
from workbench.core.tokenizer.analysis import tokenize
from workbench.core.tokenizer.options import TokenizeOptions
from workbench.ui.tokenizer import render

OPTIONS = [
    TokenizeOptions(),
    TokenizeOptions(truncation="longest_first", max_length=16, stride=3),
    TokenizeOptions(truncation="only_first", max_length=24, padding="max_length"),
    TokenizeOptions(show_word_ids=False, return_attention_mask=False),
]


def edits(rng: random.Random, text: str, count: int):
    """Typing at the end (mostly), typing in the middle, and deleting: each step's text."""
    for _ in range(count):
        roll = rng.random()
        position = len(text) if roll < 0.5 else rng.randrange(len(text) + 1)
        if roll < 0.8:
            text = text[:position] + rng.choice("ab xyz!é☃\n") + text[position:]
        else:
            text = text[:position] + text[position + 3 :]
        yield text


@pytest.mark.parametrize("kind", ["wordpiece", "bytelevel-bpe", "unigram"])
@pytest.mark.parametrize("options", OPTIONS, ids=["plain", "windows", "padded", "no-word-ids"])
def test_cached_render_equals_a_fresh_render_after_every_edit(kind, options, loaded_tokenizers):
    rng = random.Random(f"{kind}{options}")
    loaded = loaded_tokenizers[kind]
    cache = render.TableCache()
    pair = "a second text" if options.truncation == "only_first" else None
    for width in (40, 90):
        for text in edits(rng, random_text(rng, 60), 25):
            result = tokenize(loaded, text, pair, options)
            fresh = render.render_token_lines(result, render.DARK, width)
            assert render.render_token_lines(result, render.DARK, width, cache=cache) == fresh


def test_typing_at_the_end_reuses_the_table_before_the_change(loaded_tokenizers):
    loaded = loaded_tokenizers["wordpiece"]
    cache = render.TableCache()
    text = random_text(random.Random(3), 120)
    render.render_token_lines(tokenize(loaded, text), render.DARK, 60, cache=cache)
    before = list(cache.tables[0].groups)
    render.render_token_lines(tokenize(loaded, text + "x"), render.DARK, 60, cache=cache)
    after = cache.tables[0].groups
    assert len(before) > 3
    assert all(new is old for new, old in zip(after[:-2], before[:-2]))  # the same objects, not redrawn
