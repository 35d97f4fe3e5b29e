"""Token classification: the CoNLL reader, label alignment (against the course's function),
seqeval metrics (against seqeval itself), entity grouping (against transformers' pipeline) and
the messages for bad input."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import SHARED_DATA
from workbench.core.data.formats import conll
from workbench.core.errors import WorkbenchError
from workbench.core.tasks import get_task
from workbench.core.tasks.token_classification import (
    align_labels,
    continuation_of,
    detect_scheme,
    group_entities,
    seqeval_metrics,
)

CONLL_DIR = SHARED_DATA / "ner" / "conll2003"
# The label order of the Hub's conll2003 dataset, which the course's `label % 2 == 1` test relies on.
COURSE_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]

PEOPLE = ["alice", "bob", "carol", "dave"]
PLACES = ["paris", "london", "lisbon", "berlin"]
ORGS = ["acme", "globex", "initech"]
FILLER = ["the", "a", "met", "in", "visited", "works", "for", "today", "and", "from", "big", "city"]
PIECES = ["##s", "##ing", "##ton", "##er", "new", "york", "wash"]


def tiny_ner_model(folder: Path, labels: list[str] = COURSE_LABELS, initializer_range: float = 0.5) -> Path:
    """A 2-layer, 32-wide BERT token classifier from a config (random head; by default large
    weights, so the argmax varies from token to token) with a WordPiece tokenizer that splits some words."""
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ","] + PEOPLE + PLACES + ORGS + FILLER + PIECES
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # transformers 5 ignores `vocab_file` here (every word became [UNK]): the vocabulary is passed itself.
    tokenizer = BertTokenizerFast(vocab={word: index for index, word in enumerate(vocab)})
    assert tokenizer.tokenize("carols washton") == ["carol", "##s", "wash", "##ton"]
    tokenizer.save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        initializer_range=initializer_range,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: index for index, label in enumerate(labels)},
    )
    import torch

    torch.manual_seed(0)
    BertForTokenClassification(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def ner_model_dir(tmp_path_factory) -> Path:
    return tiny_ner_model(tmp_path_factory.mktemp("tiny-ner"))


@pytest.fixture(scope="module")
def embedded_tokenizer():
    from transformers import AutoTokenizer

    from workbench.core.embedded import embedded_model_path

    return AutoTokenizer.from_pretrained(str(embedded_model_path()))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def spec_for(train: Path, validation: Path | None = None, **data) -> dict:
    from workbench.training.spec import default_spec

    spec = default_spec(data=str(train), head="token-classification")
    if validation is not None:
        spec["data"]["validation_file"] = str(validation)
    spec["data"].update(data)
    return spec


TASK = get_task("token-classification")

SPACE_FILE = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP B-LOC
1996-08-22 CD I-NP O
"""


# -- the reader ----------------------------------------------------------------------------


def test_reader_space_separated_with_docstart(tmp_path):
    path = write(tmp_path / "train.txt", SPACE_FILE)
    assert conll.sniff(path)
    dataset = conll.read_files([path])
    assert dataset.column_names == ["id", "tokens", "ner_tags", "column_2", "column_3"]
    assert dataset["tokens"] == [
        ["EU", "rejects", "German", "call", "."],
        ["Peter", "Blackburn"],
        ["BRUSSELS", "1996-08-22"],
    ]
    assert dataset["ner_tags"][1] == ["B-PER", "I-PER"]
    assert dataset["column_2"][0] == ["NNP", "VBZ", "JJ", "NN", "."]
    assert dataset["id"] == ["0", "1", "2"]


def test_reader_tab_separated_keeps_spaces_and_picks_the_tag_column(tmp_path):
    text = "New York\tB-LOC\tNNP\nis\tO\tVBZ\nbig\tO\tJJ\n\nAnn\tB-PER\tNNP\n"
    path = write(tmp_path / "data.tsv", text)
    assert conll.sniff(path)  # the tag column need not be the last for the sniff
    dataset = conll.read_files([path], tag_index=1)
    assert dataset["tokens"][0] == ["New York", "is", "big"]
    assert dataset["ner_tags"] == [["B-LOC", "O", "O"], ["B-PER"]]
    assert dataset["column_3"][0] == ["NNP", "VBZ", "JJ"]


def test_reader_bioes_two_columns_no_trailing_blank(tmp_path):
    text = "Mr\tO\nJohn\tB-PER\nSmith\tE-PER\n\nParis\tS-LOC\nrocks\tO"
    path = write(tmp_path / "train.bioes", text)
    assert conll.sniff(path)
    dataset = conll.read_files([path])
    assert dataset["ner_tags"] == [["O", "B-PER", "E-PER"], ["S-LOC", "O"]]
    assert detect_scheme(dataset["ner_tags"], lambda row: "x") == "IOBES"


def test_reader_names_the_file_and_line_of_a_ragged_line(tmp_path):
    path = write(tmp_path / "train.txt", "EU NNP B-ORG\nrejects VBZ O\n\nPeter B-PER\n")
    with pytest.raises(WorkbenchError, match=r"train.txt line 4: 2 column\(s\), but line 1 has 3"):
        conll.read_files([path])


def test_reader_refuses_a_tag_index_out_of_range(tmp_path):
    path = write(tmp_path / "train.txt", SPACE_FILE)
    with pytest.raises(WorkbenchError, match="conll_tag_index = 7: train.txt has 4 columns"):
        conll.read_files([path], tag_index=7)
    with pytest.raises(WorkbenchError, match="conll_tag_index = 0"):
        conll.read_files([path], tag_index=0)


@pytest.mark.parametrize(
    "name, text",
    [
        ("prose.txt", "It was the best of times.\nIt was the worst of times.\n\nA new chapter begins here.\n"),
        ("two_words.txt", "hello world\nfoo bar\n\nbaz qux\n"),
        ("table.tsv", "Quality\t#1 ID\t#1 String\n1\t702876\tAmrozi accused his brother\n0\t2108705\tYucaipa owned\n"),
        ("parallel.tsv", "a man rides a horse\tein Mann reitet\ntwo dogs play\tzwei Hunde spielen\n"),
        ("wiki.txt", " = Valkyria Chronicles III = \n\n Senjō no Valkyria 3 : Unrecorded Chronicles\n"),
        ("data.json", '[{"tokens": ["a"], "tags": ["O"]}]'),
    ],
)
def test_sniff_does_not_claim_other_files(tmp_path, name, text):
    assert not conll.sniff(write(tmp_path / name, text))


@pytest.mark.parametrize(
    "relative",
    ["lm/wikitext-2/valid.txt", "lm/tinyshakespeare/input.txt", "glue/mrpc/dev.tsv", "translation/multi30k/val.en"],
)
def test_sniff_does_not_claim_the_shared_text_files(relative):
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} not present")
    assert not conll.sniff(path)


def test_open_dataset_reads_conll_through_the_reader(tmp_path):
    from workbench.core.data.loading import open_dataset

    opened = open_dataset(write(tmp_path / "train.txt", SPACE_FILE))
    assert opened.fmt == "conll"
    assert opened.splits["train"]["tokens"][1] == ["Peter", "Blackburn"]


# -- label alignment against the course ------------------------------------------------------


def course_align_labels_with_tokens(labels, word_ids):
    """The course's function (chapter 7, token classification), verbatim."""
    new_labels = []
    current_word = None
    for word_id in word_ids:
        if word_id != current_word:
            current_word = word_id
            label = -100 if word_id is None else labels[word_id]
            new_labels.append(label)
        elif word_id is None:
            new_labels.append(-100)
        else:
            label = labels[word_id]
            if label % 2 == 1:
                label += 1
            new_labels.append(label)
    return new_labels


def first_subtoken_only(labels, word_ids):
    """The course's alignment with later sub-tokens of a word masked (transformers' run_ner.py default)."""
    aligned = course_align_labels_with_tokens(labels, word_ids)
    previous = None
    for position, word in enumerate(word_ids):
        if word is not None and word == previous:
            aligned[position] = -100
        previous = word
    return aligned


def real_sentences(count: int = 60):
    path = CONLL_DIR / "valid.txt"
    if not path.exists():
        pytest.skip(f"{path} not present")
    dataset = conll.read_files([path])
    return dataset.select(range(count))


@pytest.mark.parametrize("label_all_tokens", [True, False])
def test_prepare_aligns_labels_as_the_course_does(embedded_tokenizer, tmp_path, label_all_tokens):
    import datasets

    sentences = real_sentences()
    features = sentences.features.copy()
    features["ner_tags"] = datasets.List(datasets.ClassLabel(names=COURSE_LABELS))
    ids = [[COURSE_LABELS.index(tag) for tag in tags] for tags in sentences["ner_tags"]]
    raw = datasets.DatasetDict({"train": sentences.remove_columns("ner_tags").add_column("ner_tags", ids)})
    raw = raw.cast(features)
    spec = spec_for(tmp_path / "train.txt", label_all_tokens=label_all_tokens, max_length=512)
    prepared = TASK.prepare(raw, spec, embedded_tokenizer)
    assert list(prepared.labels.id2label.values()) == COURSE_LABELS
    expected = course_align_labels_with_tokens if label_all_tokens else first_subtoken_only
    split_words = 0
    for row, (tokens, labels) in enumerate(zip(sentences["tokens"], ids)):
        encoded = embedded_tokenizer(tokens, is_split_into_words=True, truncation=True, max_length=512)
        word_ids = encoded.word_ids()
        split_words += len(word_ids) - len(set(word_ids))
        assert prepared.train[row]["labels"] == expected(labels, word_ids)
        assert prepared.train[row]["input_ids"] == encoded["input_ids"]
    assert split_words > 20  # the sentences do have words of several sub-tokens


def test_align_labels_unit():
    names = ["O", "B-PER", "I-PER"]
    word_ids = [None, 0, 0, 1, None]
    assert align_labels(word_ids, [1, 0]) == [-100, 1, -100, 0, -100]
    assert align_labels(word_ids, [1, 0], True, continuation_of(names)) == [-100, 1, 2, 0, -100]


def test_prepare_notes_sentences_cut_at_max_length(embedded_tokenizer, tmp_path):
    train = write(tmp_path / "train.txt", SPACE_FILE)
    spec = spec_for(train, train, max_length=4)
    prepared = TASK.prepare(TASK.load_raw(spec["data"]), spec, embedded_tokenizer)
    assert "1 of 3 train sentences are longer than max_length=4; their ends are cut" in prepared.notes
    assert any(note.startswith("1 of 3 validation sentences") for note in prepared.notes)
    assert prepared.labels.id2label == {
        0: "O",
        1: "B-LOC",
        2: "B-MISC",
        3: "B-ORG",
        4: "B-PER",
        5: "I-PER",
    }


# -- metrics ---------------------------------------------------------------------------------


def test_seqeval_metrics_equal_seqeval():
    from seqeval.metrics import accuracy_score, f1_score, precision_score, recall_score
    from seqeval.scheme import IOBES

    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG", "O"], ["I-MISC", "O"]]
    guess = [["B-PER", "I-PER", "O", "O"], ["O", "B-ORG", "B-ORG", "O"], ["I-MISC", "O"]]
    ours = seqeval_metrics(gold, guess)
    assert ours["precision"] == pytest.approx(precision_score(gold, guess))
    assert ours["recall"] == pytest.approx(recall_score(gold, guess))
    assert ours["f1"] == pytest.approx(f1_score(gold, guess))
    assert ours["accuracy"] == pytest.approx(accuracy_score(gold, guess))
    assert 0 < ours["f1"] < 1

    gold = [["S-PER", "O", "B-LOC", "E-LOC"], ["B-ORG", "I-ORG", "E-ORG"]]
    guess = [["S-PER", "O", "B-LOC", "I-LOC"], ["B-ORG", "I-ORG", "E-ORG"]]
    strict = seqeval_metrics(gold, guess, "IOBES")
    assert strict["f1"] == pytest.approx(f1_score(gold, guess, mode="strict", scheme=IOBES))
    assert strict["recall"] == pytest.approx(2 / 3)


def test_evaluator_drops_ignored_positions_and_keeps_a_record_per_sentence(embedded_tokenizer, tmp_path):
    import torch

    from workbench.core.tasks.base import HeadLabels, Prepared

    names = ["O", "B-PER", "I-PER"]
    prepared = Prepared(
        None,
        None,
        HeadLabels(3, dict(enumerate(names))),
        eval_context={"ids": ["a", "b"], "tokens": [["Ann", "Lee", "ran"], ["Bo"]], "scheme": "IOB"},
    )
    spec = spec_for(tmp_path / "t.txt")
    evaluator = TASK.evaluator(prepared, spec, embedded_tokenizer, None)
    labels = torch.tensor([[-100, 1, 2, -100, 0, -100], [-100, 1, -100, -100, -100, -100]])
    predicted = [[0, 1, 2, 2, 0, 0], [0, 0, 0, 0, 0, 0]]
    logits = torch.nn.functional.one_hot(torch.tensor(predicted), 3).float() * 5
    evaluator.add({"labels": labels}, SimpleNamespace(logits=logits), None)
    result = evaluator.finish(0.5)
    assert result.metrics == pytest.approx({"f1": 2 / 3, "precision": 1.0, "recall": 0.5, "accuracy": 0.75})
    assert result.records["id"] == ["a", "b"]
    assert result.records["input"] == ["Ann Lee ran", "Bo"]
    assert result.records["gold"] == ["B-PER I-PER O", "B-PER"]
    assert result.records["predicted"] == ["B-PER I-PER O", "O"]
    assert result.records["loss"][0] < result.records["loss"][1]


# -- entity grouping against the pipeline ---------------------------------------------------------


TEXTS = [
    "alice visited paris and london today .",
    "bob works for acme in new york , the big city",
    "carols visiting washton from berlin , and zorblax met daves",
    "  dave   met alice.the globex initech",
]


@pytest.mark.parametrize("aggregation", ["simple", "first", "max", "average"])
def test_group_entities_equals_the_pipeline(ner_model_dir, aggregation):
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

    tokenizer = AutoTokenizer.from_pretrained(ner_model_dir)
    model = AutoModelForTokenClassification.from_pretrained(ner_model_dir).eval()
    ner = pipeline("token-classification", model=model, tokenizer=tokenizer, aggregation_strategy=aggregation)
    found = 0
    for text in TEXTS:
        expected = ner(text)
        encoded = tokenizer(text, return_tensors="pt", return_offsets_mapping=True, return_special_tokens_mask=True)
        offsets = encoded.pop("offset_mapping")[0].tolist()
        special = encoded.pop("special_tokens_mask")[0].tolist()
        with torch.no_grad():
            logits = model(**encoded).logits[0]
        ours = group_entities(
            text, tokenizer, encoded["input_ids"][0], offsets, special, logits, model.config.id2label, aggregation
        )
        assert [(e["entity_group"], e["word"], e["start"], e["end"]) for e in ours] == [
            (e["entity_group"], e["word"], e["start"], e["end"]) for e in expected
        ], text
        for mine, theirs in zip(ours, expected):
            assert mine["score"] == pytest.approx(float(theirs["score"]), abs=1e-5)
        found += len(ours)
    assert found >= 4  # the random head does predict entities, so the comparison compares something


@pytest.fixture(scope="module")
def bpe_model():
    """A byte-level BPE (no continuing-subword prefix: the pipeline's fallback heuristic) and a
    tiny RoBERTa token classifier with a random head."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from tokenizers.processors import RobertaProcessing
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaForTokenClassification

    texts = ["alice visited paris and london today .", "bob works for acme in new york , the big city"] * 5
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=300, min_frequency=1, special_tokens=["<s>", "<pad>", "</s>", "<unk>"])
    bpe._tokenizer.post_processor = RobertaProcessing(("</s>", 2), ("<s>", 0))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    config = RobertaConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=130,
        initializer_range=0.5,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        pad_token_id=1,
    )
    torch.manual_seed(0)
    return tokenizer, RobertaForTokenClassification(config).eval()


@pytest.mark.parametrize("aggregation", ["simple", "first", "max"])
def test_group_entities_equals_the_pipeline_with_a_byte_level_bpe(bpe_model, aggregation):
    import warnings

    import torch
    from transformers import pipeline

    tokenizer, model = bpe_model
    ner = pipeline("token-classification", model=model, tokenizer=tokenizer, aggregation_strategy=aggregation)
    found = 0
    for text in ["alice visited parisian londoners today .", "bobby works for acmecorp in new york"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Tokenizer does not support real words, using fallback heuristic"
            expected = ner(text)
        encoded = tokenizer(text, return_tensors="pt", return_offsets_mapping=True, return_special_tokens_mask=True)
        offsets = encoded.pop("offset_mapping")[0].tolist()
        special = encoded.pop("special_tokens_mask")[0].tolist()
        with torch.no_grad():
            logits = model(**encoded).logits[0]
        ours = group_entities(
            text, tokenizer, encoded["input_ids"][0], offsets, special, logits, model.config.id2label, aggregation
        )
        assert [(e["entity_group"], e["word"], e["start"], e["end"]) for e in ours] == [
            (e["entity_group"], e["word"], e["start"], e["end"]) for e in expected
        ]
        assert [e["score"] for e in ours] == pytest.approx([float(e["score"]) for e in expected], abs=1e-5)
        found += len(ours)
    assert found


def test_a_byte_level_tokenizer_gets_a_space_before_every_word(bpe_model, tmp_path):
    """RoBERTa-style tokenizers mark a word's start by the space before it: the course loads them with
    add_prefix_space=True for pre-split words. prepare does it, notes it, and the saved tokenizer keeps it."""
    import copy

    from transformers import AutoTokenizer

    tokenizer = copy.deepcopy(bpe_model[0])
    words = ["alice", "visited", "paris"]
    without = tokenizer(words, is_split_into_words=True).tokens()
    assert not any(token.startswith("Ġ") for token in without)  # every word tokenized as a word's middle

    train = write(tmp_path / "train.txt", "alice B-PER\nvisited O\nparis B-LOC\n")
    spec = spec_for(train)
    prepared = TASK.prepare(TASK.load_raw(spec["data"]), spec, tokenizer)
    encoded = tokenizer(words, is_split_into_words=True)
    starts = {encoded.word_ids().index(word) for word in range(len(words))}
    assert all(encoded.tokens()[position].startswith("Ġ") for position in starts)
    assert prepared.train[0]["input_ids"] == encoded["input_ids"]
    assert any("add_prefix_space=True" in note for note in prepared.notes)

    tokenizer.save_pretrained(tmp_path / "saved")
    reloaded = AutoTokenizer.from_pretrained(tmp_path / "saved")
    assert reloaded("alice visited").tokens() == tokenizer("alice visited").tokens()
    assert reloaded("alice visited").tokens()[1].startswith("Ġ")


def test_a_wordpiece_tokenizer_is_left_as_it_is(embedded_tokenizer):
    from workbench.core.tasks.token_classification import add_prefix_space_for_words

    before = embedded_tokenizer(["alice", "visited"], is_split_into_words=True)["input_ids"]
    assert add_prefix_space_for_words(embedded_tokenizer) is False
    assert embedded_tokenizer(["alice", "visited"], is_split_into_words=True)["input_ids"] == before


def test_predict_reports_entities_with_type_score_and_offsets(ner_model_dir):
    from workbench.core.models.heads import head_kind
    from workbench.core.models.inference import PlaygroundInput, predict
    from workbench.core.models.inspect import inspect_checkpoint
    from workbench.core.models.loading import LoadOptions, load_model

    loaded = load_model(inspect_checkpoint(ner_model_dir), LoadOptions(head_kind("token-classification")))
    found = 0
    for text in TEXTS:
        result = predict(loaded, PlaygroundInput(text=text, aggregation="max")).result
        assert result["aggregation"] == "max"
        for entity in result["entities"]:
            assert entity["type"] == entity["entity_group"]
            assert 0 < entity["score"] <= 1
            assert text[entity["start"] : entity["end"]].strip()
        assert [span["label"] for span in result["spans"]] == [entity["type"] for entity in result["entities"]]
        found += len(result["entities"])
    assert found


def test_group_entities_refuses_an_unknown_aggregation(ner_model_dir):
    with pytest.raises(WorkbenchError, match="aggregation 'none'"):
        group_entities("a", None, [], [], [], [[0.0]], {0: "O"}, "none")


# -- data in other forms, bad input ------------------------------------------------------------


def test_jsonl_with_ids_named_by_model_id2label(embedded_tokenizer, tmp_path):
    import json

    rows = [{"words": ["Ann", "ran"], "ner": [1, 0]}, {"words": ["Paris", "is", "big"], "ner": [3, 0, 0]}]
    train = write(tmp_path / "train.jsonl", "".join(json.dumps(row) + "\n" for row in rows))
    spec = spec_for(train, train)
    raw = TASK.load_raw(spec["data"])
    assert TASK.guess_data(raw) == {"text_column": "words", "label_column": "ner"}
    with pytest.raises(WorkbenchError, match="are ids .* with no names") as error:
        TASK.prepare(raw, spec, embedded_tokenizer)
    assert "model.id2label" in error.value.hint
    spec["model"]["id2label"] = {"0": "O", "1": "B-PER", "2": "I-PER", "3": "B-LOC"}
    prepared = TASK.prepare(raw, spec, embedded_tokenizer)  # the default text/label columns are guessed
    assert prepared.labels.id2label == {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC"}
    assert prepared.train[1]["labels"][1] == 3


def test_tags_that_are_not_iob_are_named_with_file_and_sentence(embedded_tokenizer, tmp_path):
    train = write(tmp_path / "train.txt", "Ann PER\nran O\n\nBo O\n\nLee B-PER\n")
    spec = spec_for(train)
    with pytest.raises(WorkbenchError, match=r"train.txt: sentence 1 \(id '0'\), word 1: the tag 'PER' is not IOB"):
        TASK.prepare(TASK.load_raw(spec["data"]), spec, embedded_tokenizer)


def test_validation_tags_missing_from_training_are_listed(embedded_tokenizer, tmp_path):
    train = write(tmp_path / "train.txt", "Ann B-PER\nran O\n\n")
    validation = write(tmp_path / "valid.txt", "Paris B-LOC\nin O\nMay B-DATE\n\n")
    spec = spec_for(train, validation)
    with pytest.raises(WorkbenchError, match=r"valid.txt: the tag\(s\) B-DATE, B-LOC are not in the training data"):
        TASK.prepare(TASK.load_raw(spec["data"]), spec, embedded_tokenizer)


def test_tags_missing_from_model_id2label_are_listed(embedded_tokenizer, tmp_path):
    train = write(tmp_path / "train.txt", "Ann B-PER\nran O\n\nParis B-LOC\n\n")
    spec = spec_for(train)
    spec["model"]["id2label"] = {"0": "O", "1": "B-PER"}
    with pytest.raises(WorkbenchError, match=r"train.txt: the tag\(s\) B-LOC are not in the label list \(O, B-PER\)"):
        TASK.prepare(TASK.load_raw(spec["data"]), spec, embedded_tokenizer)


def test_a_text_file_given_for_token_classification_names_its_line(tmp_path):
    train = write(tmp_path / "train.txt", "It was the best of times.\nIt was the worst.\n")
    with pytest.raises(WorkbenchError, match=r"data.train_file: train.txt line 2: 4 column\(s\), but line 1 has 6"):
        TASK.load_raw(spec_for(train)["data"])


def test_a_table_without_token_lists_is_refused(embedded_tokenizer, tmp_path):
    train = write(tmp_path / "train.csv", "text,label\nhello world,B-PER\n")
    spec = spec_for(train)
    with pytest.raises(WorkbenchError, match="the column 'text' of the train data holds .*, not a list of tokens"):
        TASK.prepare(TASK.load_raw(spec["data"]), spec, embedded_tokenizer)
    spec["data"]["text_column"] = "words"
    with pytest.raises(WorkbenchError, match="data.text_column: no tokens column 'words'"):
        TASK.prepare(TASK.load_raw(spec["data"]), spec, embedded_tokenizer)


def test_the_card_and_metrics():
    assert TASK.card_info().pipeline_tag == "token-classification"
    assert TASK.best_metric(None) == "f1"
    assert TASK.chosen_metrics(["accuracy", "matthews_correlation"]) == ["accuracy"]
    with pytest.raises(WorkbenchError, match="mix BIOES"):
        detect_scheme([["S-PER", "U-LOC"]], lambda row: "f.txt")
