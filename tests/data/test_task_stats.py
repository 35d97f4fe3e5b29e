"""Task statistics (core.data.task_stats) on small data written here and on the start of the
shared CoNLL-2003 validation file and SQuAD dev set, checked against the task modules themselves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.core.data import task_stats
from workbench.core.errors import WorkbenchError

SHARED = Path("/work/shared/data")


@pytest.fixture(scope="module")
def tokenizer():
    from workbench.core.tokenizer.loader import load_hf_tokenizer

    return load_hf_tokenizer("")  # the embedded encoder's WordPiece tokenizer


def _lengths(tokenizer, sentences):
    return [len(ids) for ids in tokenizer(sentences, is_split_into_words=True)["input_ids"]]


# -- token classification ----------------------------------------------------------------------


def test_entities_scheme_and_long_sentences(tokenizer):
    tokens = [
        ["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."],
        ["Peter", "Blackburn"],
        ["The", "European", "Commission", "said", "on", "Thursday", "it", "disagreed", "with", "German", "advice"],
    ]
    tags = [
        ["B-ORG", "O", "B-MISC", "O", "O", "O", "B-MISC", "O", "O"],
        ["B-PER", "I-PER"],
        ["O", "B-ORG", "I-ORG", "O", "O", "O", "O", "O", "O", "B-MISC", "O"],
    ]
    stats = task_stats.token_stats(tokens, tags, tokenizer, max_length=10)
    assert stats.scheme == "IOB2"
    assert stats.entities == {"MISC": 3, "ORG": 2, "PER": 1}
    assert list(stats.entities) == ["MISC", "ORG", "PER"]  # most frequent first
    lengths = _lengths(tokenizer, tokens)
    assert stats.too_long == sum(1 for length in lengths if length > 10) == 2  # the first and the third
    assert stats.too_long_ids == ["1", "3"]
    assert stats.longest == max(lengths)
    assert stats.too_long_share == pytest.approx(2 / 3)
    text = "\n".join(stats.lines())
    assert "tag scheme IOB2" in text and "2 of 3 (66.7%)" in text


def test_iob1_and_bioes(tokenizer):
    iob1 = [["I-PER", "I-PER", "O", "I-LOC", "B-LOC"]]  # B- only where two LOC entities touch
    stats = task_stats.token_stats([["a"] * 5], iob1, tokenizer)
    assert stats.scheme == "IOB1"
    assert stats.entities == {"LOC": 2, "PER": 1}
    bioes = [["B-PER", "E-PER", "S-LOC", "O", "B-ORG", "I-ORG", "E-ORG"]]
    stats = task_stats.token_stats([["w"] * 7], bioes, tokenizer)
    assert stats.scheme == "IOBES"
    assert stats.entities == {"LOC": 1, "ORG": 1, "PER": 1}


def test_bad_tags_named(tokenizer):
    with pytest.raises(WorkbenchError, match="sentence 2, word 1"):
        task_stats.token_stats([["a"], ["b"]], [["O"], ["PERSON"]], tokenizer, source="x.conll")
    with pytest.raises(WorkbenchError, match="sentence 1: 2 tokens but 1 tags"):
        task_stats.token_stats([["a", "b"]], [["O"]], tokenizer)


def test_conll2003_validation_start(tmp_path, tokenizer):
    """The first 200 sentences of the CoNLL-2003 validation file, read by the CoNLL reader."""
    from seqeval.metrics.sequence_labeling import get_entities

    from workbench.core.data.formats import conll

    source = SHARED / "ner/conll2003/valid.txt"
    if not source.exists():
        pytest.skip("no shared CoNLL-2003 data")
    blocks = source.read_text().split("\n\n")
    small = tmp_path / "valid200.txt"
    small.write_text("\n\n".join(blocks[:201]) + "\n")  # -DOCSTART- and 200 sentences (or fewer documents)
    dataset = conll.read_files([small])
    stats = task_stats.compute("token-classification", dataset, tokenizer, 32, 0)
    assert stats.sentences == len(dataset)
    assert stats.words == sum(len(words) for words in dataset["tokens"])
    tags = list(dataset["ner_tags"])
    expected: dict[str, int] = {}
    for row in tags:
        for kind, _, _ in get_entities(row):
            expected[kind] = expected.get(kind, 0) + 1
    assert stats.entities == expected
    if stats.scheme == "IOB2":  # every entity starts with B-
        assert sum(stats.entities.values()) == sum(tag.startswith("B-") for row in tags for tag in row)
    lengths = _lengths(tokenizer, list(dataset["tokens"]))
    assert stats.too_long == sum(1 for length in lengths if length > 32)
    assert 0 < stats.too_long < stats.sentences  # news sentences: some longer than 32 sub-words


# -- question answering ------------------------------------------------------------------------

CONTEXT = (
    "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region in"
    " France. They were descended from Norse raiders and pirates from Denmark, Iceland and Norway who, under"
    " their leader Rollo, agreed to swear fealty to King Charles III of West Francia. Through generations of"
    " assimilation and mixing with the native Frankish and Roman-Gaulish populations, their descendants would"
    " gradually merge with the Carolingian-based cultures of West Francia. The distinct cultural and ethnic"
    " identity of the Normans emerged initially in the first half of the 10th century, and it continued to"
    " evolve over the succeeding centuries."
)


def _answer(text: str, context: str = CONTEXT, shift: int = 0) -> dict:
    return {"text": [text], "answer_start": [context.index(text) + shift]}


def test_qa_windows_lost_mismatch_unanswerable(tokenizer):
    short = "Rollo led the Norse raiders."
    long_answer = CONTEXT[CONTEXT.index("Through") : CONTEXT.index("The distinct")].strip()
    ids = ["short", "end", "long", "wrong", "none"]
    questions = ["Who led them?", "When did the identity evolve?", "What happened?", "Where?", "Why?"]
    contexts = [short, CONTEXT, CONTEXT, CONTEXT, CONTEXT]
    answers = [
        _answer("Rollo", short),
        _answer("over the succeeding centuries"),
        _answer(long_answer),  # about 30 sub-words: no window of 48 tokens holds it whole
        _answer("Normandy", shift=3),
        {"text": [], "answer_start": []},
    ]
    stats = task_stats.qa_stats(ids, questions, contexts, answers, tokenizer, max_length=48, stride=8)
    assert stats.questions == 5 and stats.contexts == 2
    assert stats.windows[0] == 1
    assert all(count >= 3 for count in stats.windows[1:])
    assert stats.distribution() == {"1": 1, "2": 0, "3+": 4}
    assert stats.lost_ids == ["long"]
    assert stats.mismatch_ids == ["wrong"]
    assert stats.unanswerable == 1
    assert stats.stride == 8
    text = "\n".join(stats.lines())
    assert "1 of 4 (25.0%)" in text and "id long" in text


def test_qa_stride_lowered_and_long_questions(tokenizer):
    stats = task_stats.qa_stats(
        ["a", "b"],
        ["Who?", " ".join(["word"] * 40)],
        [CONTEXT, CONTEXT],
        [_answer("Rollo"), _answer("Rollo")],
        tokenizer,
        max_length=64,
        stride=60,
    )
    room = 64 - 32 - tokenizer.num_special_tokens_to_add(pair=True)
    assert stats.stride == room // 2 and stats.asked_stride == 60
    assert stats.long_question_ids == ["b"] and stats.windows[1] == 0


def _squad_articles(tmp_path: Path, articles: int = 2, paragraphs: int = 4) -> Path:
    source = SHARED / "qa/squad/dev-v1.1.json"
    if not source.exists():
        pytest.skip("no shared SQuAD data")
    data = json.loads(source.read_text())
    small = {
        "version": data.get("version", "1.1"),
        "data": [
            {"title": article["title"], "paragraphs": article["paragraphs"][:paragraphs]}
            for article in data["data"][:articles]
        ],
    }
    path = tmp_path / "dev-small.json"
    path.write_text(json.dumps(small))
    return path


def test_squad_articles_match_the_task_windows(tmp_path, tokenizer):
    """Windows per question equal the features question_answering.prepare builds; no answer is lost."""
    import datasets

    from workbench.core.data.formats import squad
    from workbench.core.tasks.question_answering import TASK

    path = _squad_articles(tmp_path)
    dataset = squad.read_files([path])
    questions = sum(len(p["qas"]) for a in json.loads(path.read_text())["data"] for p in a["paragraphs"])
    stats = task_stats.compute("question-answering", dataset, tokenizer, 128, 32)
    assert stats.questions == len(dataset) == questions
    assert stats.contexts == len(set(dataset["context"]))
    assert stats.unanswerable == 0 and stats.mismatches == 0  # the official dev set's answers are right
    data = {
        "question_column": "question",
        "context_column": "context",
        "answers_column": "answers",
        "id_column": "id",
        "max_length": 128,
        "doc_stride": 32,
        "n_best_size": 20,
        "max_answer_length": 30,
        "null_score_diff_threshold": 0.0,
        "version_2_with_negative": False,
    }
    prepared = TASK.prepare(
        datasets.DatasetDict({"train": dataset}), {"data": data, "model": {}, "training": {}}, tokenizer
    )
    assert sum(stats.windows) == len(prepared.train)
    lost_note = [note for note in prepared.notes if "lost to truncation" in note]
    assert (stats.lost > 0) == bool(lost_note)
    if lost_note:
        assert lost_note[0].startswith(f"train: {stats.lost} answer(s)")


# -- language modelling and seq2seq ------------------------------------------------------------


def test_lm_blocks_as_group_texts(tokenizer):
    from workbench.core.tasks.language_modeling import group_texts

    texts = [
        "The quick brown fox jumps over the lazy dog.",
        "",
        "   ",
        "Language models read blocks of tokens, concatenated across documents and cut at the block size.",
        "A third document.",
    ]
    stats = task_stats.lm_stats(texts, tokenizer, block_size=8)
    kept = [text for text in texts if text.strip()]
    encoded = tokenizer(kept)
    assert stats.documents == 5 and stats.empty == 2
    assert stats.tokens.tolist() == [len(ids) for ids in encoded["input_ids"]]
    grouped = group_texts({"input_ids": encoded["input_ids"]}, 8)
    assert stats.blocks == len(grouped["input_ids"])
    assert stats.dropped == int(stats.tokens.sum()) - 8 * stats.blocks
    with pytest.raises(WorkbenchError):
        task_stats.lm_stats(texts, tokenizer, block_size=0)


def test_seq2seq_lengths_and_shares(tokenizer):
    sources = ["A man is riding a horse on the beach at sunset.", "Two dogs.", "", "A child plays."]
    targets = ["Ein Mann reitet ein Pferd.", "Zwei Hunde spielen im Schnee mit einem roten Ball.", "x", "Ein Kind."]
    stats = task_stats.seq2seq_stats(sources, targets, tokenizer, 8, 8, source_column="en", target_column="de")
    assert stats.pairs == 4 and stats.empty == 1
    kept = [0, 1, 3]
    source_lengths = [len(ids) for ids in tokenizer([sources[i] for i in kept])["input_ids"]]
    target_lengths = [len(ids) for ids in tokenizer(text_target=[targets[i] for i in kept])["input_ids"]]
    assert stats.source_tokens.tolist() == source_lengths
    assert stats.target_tokens.tolist() == target_lengths
    assert stats.sources_over == sum(length > 8 for length in source_lengths)
    assert stats.targets_over == sum(length > 8 for length in target_lengths)
    assert "en → de" in stats.lines()[0]


def test_compute_guesses_columns(tokenizer):
    import datasets

    pairs = datasets.Dataset.from_dict(
        {"dialogue": ["#Person1#: Hello there, how are you doing today? #Person2#: Fine."], "summary": ["Greeting."]}
    )
    stats = task_stats.compute("seq2seq", pairs, tokenizer, 128, 16)
    assert (stats.source_column, stats.target_column) == ("dialogue", "summary")
    translation = datasets.Dataset.from_dict({"translation": [{"en": "A dog.", "de": "Ein Hund."}]})
    stats = task_stats.compute("seq2seq", translation, tokenizer, 128, 16)
    assert (stats.source_column, stats.target_column) == ("en", "de")
    texts = datasets.Dataset.from_dict({"id": ["1", "2"], "text": ["one long document here", "another one"]})
    assert task_stats.compute("language-modeling", texts, tokenizer, 128, 4).documents == 2
    tagged = datasets.Dataset.from_dict({"words": [["EU", "rejects"]], "tags": [[3, 0]]})
    with pytest.raises(WorkbenchError, match="ids with no names"):
        task_stats.compute("token-classification", tagged, tokenizer, 128, 0)
    with pytest.raises(WorkbenchError, match="No statistics"):
        task_stats.compute("image-classification", texts, tokenizer, 128, 0)


def test_rows_as_the_task_reads_them():
    lines = task_stats.aligned_sentence(["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"])
    assert lines == ["EU    rejects German", "B-ORG O       B-MISC"]
    wrapped = task_stats.aligned_sentence(["word"] * 30, ["O"] * 30, width=20)
    assert len(wrapped) > 2 and all(len(line) <= 20 for line in wrapped)
    marked = task_stats.marked_context("Rollo led the raiders.", ["Rollo"], [0])
    assert marked == "[[Rollo]] led the raiders."
    assert task_stats.task_for_format("conll") == "token-classification"
    assert task_stats.task_for_format("csv") is None


def test_progress_reaches_the_row_count(tokenizer):
    import datasets

    texts = datasets.Dataset.from_dict({"text": [f"document number {i}" for i in range(2_500)]})
    calls: list[tuple[int, int]] = []
    stats = task_stats.compute("language-modeling", texts, tokenizer, 128, 16, progress=lambda *a: calls.append(a))
    assert stats.documents == 2_500
    assert calls == [(1_000, 2_500), (2_000, 2_500), (2_500, 2_500)]
