"""Batch, round trip, compare, training and "Show code" against transformers' own results."""

from __future__ import annotations

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.tokenizer.batch import split_lines, tokenize_batch
from workbench.core.tokenizer.codegen import tokenizer_call_code
from workbench.core.tokenizer.compare import compare
from workbench.core.tokenizer.options import TokenizeOptions
from workbench.core.tokenizer.roundtrip import round_trip
from workbench.core.tokenizer.train_new import corpus_from_dataset, corpus_from_text_file, train_new_tokenizer


@pytest.mark.parametrize("kind", ["wordpiece", "bytelevel-bpe", "unigram"])
def test_batch_is_what_padding_true_returns(kind, loaded_tokenizers, hf_tokenizers):
    texts = split_lines("the model\n\n the tokenizer splits words into pieces \nHello café")
    batch = tokenize_batch(loaded_tokenizers[kind], texts, TokenizeOptions())
    expected = hf_tokenizers[kind](texts, padding=True)
    assert batch.input_ids == expected["input_ids"]
    assert batch.attention_mask == expected["attention_mask"]
    assert batch.shape == (3, len(expected["input_ids"][0]))
    assert batch.padding_tokens == sum(row.count(0) for row in expected["attention_mask"])
    assert all(len(row) == batch.shape[1] for row in batch.tokens)


def test_batch_with_max_length_padding(loaded_tokenizers, hf_tokenizers):
    options = TokenizeOptions(padding="max_length", max_length=20)
    batch = tokenize_batch(loaded_tokenizers["wordpiece"], ["a", "the model"], options)
    assert (
        batch.input_ids
        == hf_tokenizers["wordpiece"](["a", "the model"], padding="max_length", max_length=20)["input_ids"]
    )
    with pytest.raises(WorkbenchError, match="empty"):
        tokenize_batch(loaded_tokenizers["wordpiece"], [], options)


def test_round_trip_names_what_is_lost(loaded_tokenizers, hf_tokenizers):
    text = "Hello  Café ☃ tokenizer"
    trip = round_trip(loaded_tokenizers["wordpiece"], text)
    hf = hf_tokenizers["wordpiece"]
    assert trip.decoded == hf.decode(hf(text, add_special_tokens=False)["input_ids"])
    kinds = {piece.original: piece.kind for piece in trip.pieces if piece.kind}
    assert kinds.get("H") == "case"
    assert "accents" in trip.counts()
    assert any(kind == "unknown" and "☃" in original for original, kind in kinds.items())
    assert "whitespace" in trip.counts()
    assert "".join(piece.original for piece in trip.pieces) == text
    assert "".join(piece.decoded for piece in trip.pieces) == trip.decoded


def test_byte_level_round_trip_is_lossless(loaded_tokenizers):
    trip = round_trip(loaded_tokenizers["bytelevel-bpe"], "Hello  Café ☃\ttokenizer 🙂")
    assert trip.lossless, trip.pieces


def test_compare_counts_and_split_differences(loaded_tokenizers, hf_tokenizers):
    text = "the tokenizer splits Hello café"
    comparison = compare(loaded_tokenizers["wordpiece"], loaded_tokenizers["bytelevel-bpe"], text)
    assert comparison.left_tokens == len(hf_tokenizers["wordpiece"](text, add_special_tokens=False)["input_ids"])
    assert comparison.right_tokens == len(hf_tokenizers["bytelevel-bpe"](text, add_special_tokens=False)["input_ids"])
    assert not comparison.identical_splits
    same = compare(loaded_tokenizers["wordpiece"], loaded_tokenizers["wordpiece"], text)
    assert same.identical_splits and same.left_tokens == same.right_tokens


@pytest.mark.parametrize("kind", ["wordpiece", "bytelevel-bpe", "unigram"])
def test_train_new_tokenizer_saves_and_reloads(kind, loaded_tokenizers, tmp_path):
    from transformers import AutoTokenizer

    source = tmp_path / "corpus.txt"
    source.write_text("\n".join(["the tokenizer learns new pieces", "pieces of words", "words, words, words"] * 50))
    progress: list[tuple[int, int]] = []
    trained = train_new_tokenizer(
        loaded_tokenizers[kind],
        corpus_from_text_file(source),
        120,
        tmp_path / "new",
        lambda done, total: progress.append((done, total)),
    )
    assert progress[-1] == (150, 150)
    reloaded = AutoTokenizer.from_pretrained(str(tmp_path / "new"))
    text = "the tokenizer learns"
    assert reloaded(text)["input_ids"] == trained.tokenizer(text)["input_ids"]
    assert trained.model_type == loaded_tokenizers[kind].model_type
    with pytest.raises(WorkbenchError, match="not empty"):
        train_new_tokenizer(loaded_tokenizers[kind], corpus_from_text_file(source), 120, tmp_path / "new")


def test_corpus_from_a_dataset_column(mrpc_dir):
    corpus = corpus_from_dataset({"path": str(mrpc_dir / "dev.tsv")}, "#1 String")
    assert len(corpus.texts) == 408
    with pytest.raises(WorkbenchError, match="no column 'sentence'"):
        corpus_from_dataset({"path": str(mrpc_dir / "dev.tsv")}, "sentence")


def test_show_code_reproduces_the_view(tokenizer_dirs, hf_tokenizers):
    options = TokenizeOptions(truncation="only_first", truncation_side="left", max_length=10, stride=2)
    code = tokenizer_call_code(
        str(tokenizer_dirs["wordpiece"]), options, text="the tokenizer splits words into pieces", pair="a b"
    )
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - the snippet is ours; running it is the test
    hf = hf_tokenizers["wordpiece"]
    hf.truncation_side = "left"
    try:
        expected = hf("the tokenizer splits words into pieces", "a b", **options.call_kwargs())
    finally:
        hf.truncation_side = "right"
    assert namespace["encoding"]["input_ids"] == expected["input_ids"]
    assert "embedded_model_path()" in tokenizer_call_code("", TokenizeOptions(), text="x")


# -- issue 22 item 12 ------------------------------------------------------------------------
def test_batch_keeps_the_pair_and_says_how_it_pads(loaded_tokenizers, hf_tokenizers):
    loaded, hf = loaded_tokenizers["wordpiece"], hf_tokenizers["wordpiece"]
    texts = ["the model sees ids", "a tokenizer splits words into pieces"]
    one_pair = tokenize_batch(loaded, texts, TokenizeOptions(), "padding mask")
    assert one_pair.input_ids == hf(texts, ["padding mask"] * 2, padding="longest")["input_ids"]
    assert one_pair.pairs == ["padding mask", "padding mask"]
    assert one_pair.padding == "longest" and one_pair.padding_asked == "do_not_pad"
    per_line = tokenize_batch(loaded, texts, TokenizeOptions(), "padding\nmask window")
    assert per_line.input_ids == hf(texts, ["padding", "mask window"], padding="longest")["input_ids"]
    with pytest.raises(WorkbenchError, match="The pair has 3 lines and the text 2"):
        tokenize_batch(loaded, texts, TokenizeOptions(), "a\nb\nc")


def test_batch_view_names_the_pair_and_the_padding_it_used(loaded_tokenizers):
    from workbench.ui.tokenizer.palette import DARK
    from workbench.ui.tokenizer.render_views import render_batch

    batch = tokenize_batch(loaded_tokenizers["wordpiece"], ["the model", "a b c d"], TokenizeOptions(), "ids")
    shown = render_batch(batch, DARK).plain
    assert "text + pair on each row" in shown
    assert "padding is 'do_not_pad' in the options" in shown and "padding='longest'" in shown


def test_a_stride_without_truncation_is_a_note_not_an_error(loaded_tokenizers):
    from workbench.core.tokenizer.analysis import tokenize

    options = TokenizeOptions(stride=3)
    options.check()  # no error
    assert options.ignored() == ["stride 3 is ignored: it only applies with truncation on"]
    result = tokenize(loaded_tokenizers["wordpiece"], "the model sees ids", None, options)
    assert len(result.windows) == 1 and result.total_tokens > 0


def test_show_code_writes_the_whole_text_and_the_pair_of_the_batch(tokenizer_dirs, hf_tokenizers):
    text = "the tokenizer splits words into pieces " * 4 + "\nthe model sees ids"
    folder = str(tokenizer_dirs["wordpiece"])
    single = tokenizer_call_code(folder, TokenizeOptions(), text=text, pair="a b")
    assert "…" not in single
    namespace: dict = {}
    exec(single, namespace)  # noqa: S102 - the snippet is ours; running it is the test
    assert namespace["encoding"]["input_ids"] == hf_tokenizers["wordpiece"](text, "a b")["input_ids"]
    batch = tokenizer_call_code(folder, TokenizeOptions(), text=text, pair="a b", batch=True)
    assert "pairs = ['a b', 'a b']" in batch
    exec(batch, namespace)  # noqa: S102
    lines = text.splitlines()
    expected = hf_tokenizers["wordpiece"](lines, ["a b"] * 2, padding="longest")["input_ids"]
    assert namespace["encoding"]["input_ids"].tolist() == expected
    assert "embedded_model_path()" in tokenizer_call_code("embedded", TokenizeOptions(), text="x")
