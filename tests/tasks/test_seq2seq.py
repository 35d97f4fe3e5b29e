"""The seq2seq task: the data forms it reads (parallel files, translation JSON Lines, document and
summary columns), its preprocessing and label padding, its metrics against sacrebleu and rouge-score
themselves, and the message for a model that cannot generate."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.tasks import generation_metrics, get_task
from workbench.core.tasks.base import HeadLabels

# A word-for-word "English -> German" toy language: small enough for a tiny model to learn.
LEXICON = {
    "a": "ein",
    "the": "der",
    "dog": "hund",
    "cat": "katze",
    "man": "mann",
    "woman": "frau",
    "child": "kind",
    "runs": "rennt",
    "sleeps": "schlaft",
    "eats": "isst",
    "sees": "sieht",
    "big": "gross",
    "small": "klein",
    "red": "rot",
    "green": "grun",
    "house": "haus",
    "ball": "ball",
    "today": "heute",
    "here": "hier",
    "now": "jetzt",
}
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def parallel_lines(count: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    english = list(LEXICON)
    sources = [" ".join(rng.choice(english) for _ in range(rng.randint(3, 6))) for _ in range(count)]
    return sources, [" ".join(LEXICON[word] for word in line.split()) for line in sources]


def write_parallel(folder: Path, name: str, count: int, seed: int) -> Path:
    sources, targets = parallel_lines(count, seed)
    (folder / f"{name}.en").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (folder / f"{name}.de").write_text("\n".join(targets) + "\n", encoding="utf-8")
    return folder / f"{name}.en"


def make_tiny_t5(folder: Path) -> Path:
    """A one-layer, 32-wide T5 over the toy vocabulary (WordPiece tokenizer), from
    `workbench.core.models.create` as `workbench model create t5` makes it."""
    from transformers import BertTokenizer

    from workbench.core.models.create import create_model, save_model

    vocab_file = folder.parent / f"{folder.name}-vocab.txt"
    vocab = SPECIALS + sorted(set(LEXICON) | set(LEXICON.values()))
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab=str(vocab_file))  # transformers 5: `vocab`, not `vocab_file`
    overrides = {"d_model": 32, "d_ff": 64, "d_kv": 8, "num_layers": 1, "num_heads": 2}
    model = create_model("t5", "tiny", None, overrides, tokenizer, seed=0)
    return save_model(model, tokenizer, folder)


@pytest.fixture(scope="module")
def tiny_t5(tmp_path_factory) -> Path:
    return make_tiny_t5(tmp_path_factory.mktemp("models") / "t5")


@pytest.fixture
def task():
    return get_task("seq2seq")


def seq2seq_spec(model: Path, train: Path, validation: Path | None = None, **data) -> dict:
    from workbench.training.spec import default_spec

    spec = default_spec(model=str(model), data=str(train), head="seq2seq")
    spec["data"].update(validation_file=str(validation or ""), **data)
    return spec


# -- data --------------------------------------------------------------------------------------


def test_parallel_files_become_a_column_per_language(tmp_path, task):
    train = write_parallel(tmp_path, "train", 12, 0)
    write_parallel(tmp_path, "val", 4, 1)
    raw = task.load_raw({"train_file": str(train), "validation_file": str(tmp_path / "val.en"),
                         "source_lang": "en", "target_lang": "de"})  # fmt: skip
    assert raw["train"].column_names == ["en", "de"]
    assert raw["train"].num_rows == 12 and raw["validation"].num_rows == 4
    assert raw["train"][0]["de"] == " ".join(LEXICON[word] for word in raw["train"][0]["en"].split())


def test_parallel_languages_come_from_the_file_names(tmp_path, task):
    """`train.en` with `train.de` beside it: no languages in the spec needed (what --init reads)."""
    train = write_parallel(tmp_path, "train", 5, 0)
    raw = task.load_raw({"train_file": str(train)})
    assert raw["train"].column_names == ["en", "de"]
    assert task.guess_data(raw) == {"source_column": "", "target_column": "", "source_lang": "en", "target_lang": "de"}
    assert task.kind({"data": {"train_file": str(train)}}) == "translation"
    assert task.default_metrics_for({"train_file": str(train)}) == ("bleu", "chrf")


def test_parallel_files_with_a_missing_line_name_where_they_part(tmp_path, task):
    sources, targets = parallel_lines(10, 0)
    (tmp_path / "train.en").write_text("\n".join(sources) + "\n", encoding="utf-8")
    del targets[6]
    (tmp_path / "train.de").write_text("\n".join(targets) + "\n", encoding="utf-8")
    with pytest.raises(WorkbenchError) as caught:
        task.load_raw({"train_file": str(tmp_path / "train.en"), "source_lang": "en", "target_lang": "de"})
    message = caught.value.message
    assert "train.en has 10 lines but train.de has 9" in message
    assert "line 10 of train.en has no partner in train.de" in message
    assert message.startswith("data.train_file:")


def test_a_blank_line_on_one_side_is_pointed_at(tmp_path, task):
    sources, targets = parallel_lines(10, 0)
    targets[3] = ""  # a translation lost, its line left blank, and an extra line at the end
    (tmp_path / "train.en").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (tmp_path / "train.de").write_text("\n".join([*targets, "extra"]) + "\n", encoding="utf-8")
    with pytest.raises(WorkbenchError) as caught:
        task.load_raw({"train_file": str(tmp_path / "train.en"), "source_lang": "en", "target_lang": "de"})
    assert "line 11 of train.de has no partner" in caught.value.message
    assert "blank in one file only is line 4 (train.de)" in caught.value.hint


def test_a_missing_partner_file_is_named(tmp_path, task):
    write_parallel(tmp_path, "train", 3, 0)
    with pytest.raises(WorkbenchError, match=r"train\.fr does not exist"):
        task.load_raw({"train_file": str(tmp_path / "train.en"), "source_lang": "en", "target_lang": "fr"})


def test_translation_json_lines_as_hub_datasets_store_them(tmp_path, task):
    sources, targets = parallel_lines(6, 2)
    path = tmp_path / "train.jsonl"
    path.write_text(
        "".join(json.dumps({"translation": {"en": s, "de": t}}) + "\n" for s, t in zip(sources, targets, strict=True)),
        encoding="utf-8",
    )
    raw = task.load_raw({"train_file": str(path)})
    assert sorted(raw["train"].column_names) == ["de", "en"]
    assert raw["train"][2]["en"] == sources[2] and raw["train"][2]["de"] == targets[2]
    guessed = task.guess_data(raw)
    assert (guessed["source_lang"], guessed["target_lang"]) == ("en", "de")


def test_two_language_columns_in_a_tsv(tmp_path, task):
    sources, targets = parallel_lines(5, 3)
    path = tmp_path / "pairs.tsv"
    path.write_text("id\ten\tde\n" + "".join(f"{i}\t{s}\t{t}\n" for i, (s, t) in enumerate(zip(sources, targets))))
    raw = task.load_raw({"train_file": str(path)})
    guessed = task.guess_data(raw)
    assert (guessed["source_lang"], guessed["target_lang"]) == ("en", "de")


DIALOGUES = [
    {
        "fname": f"dev_{i}",
        "dialogue": f"#Person1#: Hello, are you coming to the {place} today?\n#Person2#: Yes, I will be there at {i}.",
        "summary": f"#Person2# will come to the {place} at {i}.",
        "topic": "plans",
    }
    for i, place in enumerate(["park", "office", "station", "library", "market", "school"])
]


def test_summarization_columns_are_guessed_on_dialogsum_like_rows(tmp_path, task):
    path = tmp_path / "dialogues.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in DIALOGUES), encoding="utf-8")
    raw = task.load_raw({"train_file": str(path)})
    assert task.guess_data(raw) == {"source_column": "dialogue", "target_column": "summary"}
    spec = {"data": {"train_file": str(path), "source_column": "dialogue", "target_column": "summary"}}
    assert task.kind(spec) == "summarization"
    assert task.metrics_for(spec) == ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    assert task.card_info(spec).pipeline_tag == "summarization"


def test_news_and_unknown_column_names_are_guessed(tmp_path, task):
    import datasets

    news = datasets.Dataset.from_dict({"id": ["a", "b"], "article": ["A long text. " * 5] * 2, "highlights": ["x"] * 2})
    assert task.guess_data({"train": news}) == {"source_column": "article", "target_column": "highlights"}
    # No known names: the longer text is the input, a column named like a summary the output.
    other = datasets.Dataset.from_dict({"body_text": ["word " * 40] * 3, "short_version": ["word"] * 3})
    assert task.guess_data({"train": other}) == {"source_column": "body_text", "target_column": "short_version"}


def test_empty_documents_are_dropped_with_a_note(tmp_path, task, tiny_t5):
    from transformers import AutoTokenizer

    rows = [dict(row) for row in DIALOGUES]
    rows[2]["dialogue"] = "   "
    rows[4]["summary"] = ""
    path = tmp_path / "dialogues.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    spec = seq2seq_spec(tiny_t5, path, source_column="dialogue", target_column="summary")
    prepared = task.prepare(task.load_raw(spec["data"]), spec, AutoTokenizer.from_pretrained(tiny_t5))
    assert prepared.train.num_rows == 4
    assert any("2 row(s) with an empty 'dialogue' (1) or 'summary' (1) dropped; the first is row 3" in note
               for note in prepared.notes)  # fmt: skip


def test_unknown_columns_are_named(tmp_path, task, tiny_t5):
    from transformers import AutoTokenizer

    path = tmp_path / "dialogues.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in DIALOGUES), encoding="utf-8")
    spec = seq2seq_spec(tiny_t5, path, source_column="text", target_column="summary")
    with pytest.raises(WorkbenchError, match="data.source_column: no column 'text'"):
        task.prepare(task.load_raw(spec["data"]), spec, AutoTokenizer.from_pretrained(tiny_t5))


# -- preprocessing and batches ---------------------------------------------------------------


def test_prefix_lengths_and_label_padding(tmp_path, task, tiny_t5):
    """Sources carry the prefix and are cut at max_length, targets at max_target_length (each noted);
    the collator pads labels with -100 and shifts them right into decoder_input_ids."""
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_t5)
    train = write_parallel(tmp_path, "train", 16, 0)
    spec = seq2seq_spec(tiny_t5, train, source_lang="en", target_lang="de", source_prefix="the now ")
    spec["data"].update(max_length=7, max_target_length=5)
    prepared = task.prepare(task.load_raw(spec["data"]), spec, tokenizer)
    first = prepared.train[0]
    assert tokenizer.decode(first["input_ids"], skip_special_tokens=True).startswith("the now")
    assert max(len(row) for row in prepared.train["input_ids"]) == 7
    assert max(len(row) for row in prepared.train["labels"]) == 5
    assert "token_type_ids" not in prepared.train.column_names  # T5's forward takes none
    assert any("sources" in note and "data.max_length = 7" in note for note in prepared.notes)
    assert any("targets" in note and "data.max_target_length = 5" in note for note in prepared.notes)

    model = task.load_model(spec, str(tiny_t5), HeadLabels())
    batch = task.collator(tokenizer, 8, model)([prepared.train[i] for i in range(6)])
    lengths = [len(prepared.train[i]["labels"]) for i in range(6)]
    assert batch["labels"].shape == (6, 8)  # the longest (5) padded up to a multiple of 8
    for row, length in zip(batch["labels"], lengths, strict=True):
        assert (row[length:] == -100).all() and (row[:length] != -100).all()
    start = model.config.decoder_start_token_id
    assert (batch["decoder_input_ids"][:, 0] == start).all()
    assert torch.equal(batch["decoder_input_ids"][0, 1 : lengths[0]], batch["labels"][0, : lengths[0] - 1])


def test_encoder_only_models_are_refused_with_the_tasks_that_fit(tmp_path, task):
    from transformers import BertConfig

    folder = tmp_path / "bert"
    BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64).save_pretrained(folder)
    spec = {"model": {"name_or_path": "my-bert", "from_config": True}}
    with pytest.raises(WorkbenchError) as caught:
        task.load_model(spec, str(folder), HeadLabels())
    assert "seq2seq needs an encoder-decoder model (T5, BART, Marian" in caught.value.message
    assert "my-bert is a bert model" in caught.value.message
    assert "sequence-classification, token-classification, question-answering, masked-lm" in caught.value.hint
    assert "seq2seq" not in caught.value.hint.split(".")[0]


# -- metrics against the libraries ---------------------------------------------------------


PREDICTIONS = ["the cat sat on the mat today", "a dog runs in the big park.", "hello there", ""]
REFERENCES = ["the cat is on the mat", "a big dog runs in the park. It is happy.", "hello there friend", "nothing"]


def test_bleu_and_chrf_are_sacrebleu_s():
    import sacrebleu

    ours = generation_metrics.compute(["bleu", "chrf"], PREDICTIONS, REFERENCES)
    assert ours["bleu"] == pytest.approx(sacrebleu.corpus_bleu(PREDICTIONS, [REFERENCES]).score)
    assert ours["chrf"] == pytest.approx(sacrebleu.corpus_chrf(PREDICTIONS, [REFERENCES]).score)
    assert 0 < ours["bleu"] < 100
    sentence = generation_metrics.example_scores(["bleu"], PREDICTIONS, REFERENCES)
    expected = [sacrebleu.sentence_bleu(p, [r]).score for p, r in zip(PREDICTIONS, REFERENCES, strict=True)]
    assert sentence == pytest.approx(expected)


def test_rouge_is_rouge_score_s():
    from rouge_score import rouge_scorer

    ours = generation_metrics.compute(["rouge1", "rouge2", "rougeL", "rougeLsum"], PREDICTIONS, REFERENCES)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    lines = generation_metrics.sentence_lines
    scores = [scorer.score(lines(r), lines(p)) for p, r in zip(PREDICTIONS, REFERENCES, strict=True)]
    for name in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        assert ours[name] == pytest.approx(100 * sum(s[name].fmeasure for s in scores) / len(scores))
    # Lsum reads sentences: the two-sentence reference scores differently from rougeL.
    assert lines(REFERENCES[1]) == "a big dog runs in the park.\nIt is happy."
    swapped = generation_metrics.compute(
        ["rougeL", "rougeLsum"], ["It is happy. A big dog runs."], ["A big dog runs. It is happy."]
    )
    assert swapped["rougeLsum"] == pytest.approx(100) and swapped["rougeL"] < 70


def test_metrics_follow_the_spec(task):
    summarization = {"data": {}, "training": {"metrics": ["rougeL"]}}
    assert task.metrics_for(summarization) == ["rougeL"]
    assert task.metrics_for({"data": {}, "training": {"metrics": ["bleu"]}}) == ["bleu"]
    assert task.kind({"data": {}, "training": {"metrics": ["bleu", "chrf"]}}) == "translation"
    translation = {"data": {"source_lang": "en", "target_lang": "de"}, "training": {"metrics": None}}
    assert task.metrics_for(translation) == ["bleu", "chrf"]
    assert task.metrics_for({"data": {}, "training": {"metrics": []}}) == []  # the loss only
    assert task.default_metrics_for({"source_column": "document"}) == ("rouge1", "rouge2", "rougeL", "rougeLsum")


def test_the_evaluator_generates_scores_and_keeps_samples(tmp_path, task, tiny_t5):
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_t5)
    train = write_parallel(tmp_path, "train", 8, 0)
    validation = write_parallel(tmp_path, "val", 5, 1)
    spec = seq2seq_spec(tiny_t5, train, validation, source_lang="en", target_lang="de")
    spec["training"].update(metrics=["bleu", "chrf"], generation_max_length=6, generation_num_beams=2)
    prepared = task.prepare(task.load_raw(spec["data"]), spec, tokenizer)
    model = task.load_model(spec, str(tiny_t5), HeadLabels()).eval()
    collate = task.collator(tokenizer, None, model)
    evaluator = task.evaluator(prepared, spec, tokenizer, None)
    with torch.no_grad():
        for rows in ([0, 1, 2], [3, 4]):
            batch = collate([prepared.validation[i] for i in rows])
            evaluator.add(batch, model(**batch), model)
    result = evaluator.finish(1.0)
    assert set(result.metrics) == {"bleu", "chrf"}
    sources, targets = parallel_lines(5, 1)
    assert result.records["input"] == sources
    assert result.records["gold"] == targets  # labels decoded, -100 read as padding
    # max_length 6 counts the decoder start token: at most 5 generated
    assert all(len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= 5 for text in result.records["predicted"])
    assert len(result.records["loss"]) == 5 and all(loss > 0 for loss in result.records["loss"])
    assert [sample["input"] for sample in result.samples] == sources[:3]
    assert set(result.samples[0]) == {"input", "reference", "prediction"}


def test_a_summarization_spec_without_metrics_is_scored_with_rouge(tmp_path, task, tiny_t5):
    import torch
    from transformers import AutoTokenizer

    from workbench.training.spec import complete_spec

    tokenizer = AutoTokenizer.from_pretrained(tiny_t5)
    path = tmp_path / "dialogues.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in DIALOGUES), encoding="utf-8")
    given = {"model": {"name_or_path": str(tiny_t5), "head": "seq2seq"}, "data": {"train_file": str(path),
             "validation_file": str(path), "source_column": "dialogue", "target_column": "summary"}}  # fmt: skip
    spec = complete_spec(given)  # no training.metrics: the task's defaults for this data
    assert spec["training"]["metrics"] == ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    spec["training"]["generation_max_length"] = 5
    prepared = task.prepare(task.load_raw(spec["data"]), spec, tokenizer)
    model = task.load_model(spec, str(tiny_t5), HeadLabels()).eval()
    batch = task.collator(tokenizer, None, model)([prepared.validation[i] for i in range(4)])
    evaluator = task.evaluator(prepared, spec, tokenizer, None)
    with torch.no_grad():
        evaluator.add(batch, model(**batch), model)
    result = evaluator.finish(1.0)
    assert set(result.metrics) == {"rouge1", "rouge2", "rougeL", "rougeLsum"}
    assert result.records["input"] == [row["dialogue"] for row in DIALOGUES[:4]]
    assert len(result.records["score"]) == 4  # ROUGE-L per example
