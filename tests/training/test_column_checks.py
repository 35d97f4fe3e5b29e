"""The launch's column check (`training.preflight.column_problems`) on task-shaped files: CoNLL and SQuAD are
checked against the columns their readers make, and token classification's guessed defaults pass."""

from __future__ import annotations

import json

from workbench.training.preflight import column_problems

CONLL = "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\nPeter NNP B-NP B-PER\n"


def test_a_conll_file_is_checked_against_the_columns_its_reader_makes(tmp_path):
    train = tmp_path / "train.txt"
    train.write_text(CONLL, encoding="utf-8")
    data = {"train_file": str(train), "text_column": "tokens", "label_column": "ner_tag"}
    problems = column_problems(data, "token-classification")
    assert problems == {
        "data.label_column": "no column 'ner_tag' in train.txt; did you mean 'ner_tags'?"
        " (its columns: id, tokens, ner_tags, column_2, column_3)"
    }
    assert column_problems({**data, "label_column": "ner_tags"}, "token-classification") == {}
    assert column_problems({**data, "label_column": "column_3"}, "token-classification") == {}
    bad_index = column_problems({**data, "label_column": "ner_tags", "conll_tag_index": 7}, "token-classification")
    assert list(bad_index) == ["data.train_file"] and "conll_tag_index = 7" in bad_index["data.train_file"]


def test_token_classification_defaults_are_left_to_the_task_to_guess(tmp_path):
    rows = tmp_path / "ner.jsonl"
    rows.write_text(json.dumps({"words": ["EU", "rejects"], "tags": ["B-ORG", "O"]}) + "\n", encoding="utf-8")
    conll = tmp_path / "train.txt"
    conll.write_text(CONLL, encoding="utf-8")
    for path in (rows, conll):  # the task picks the lists of tokens and tags when the spec says text, label
        assert (
            column_problems(
                {"train_file": str(path), "text_column": "text", "label_column": "label"}, "token-classification"
            )
            == {}
        )
    assert "data.text_column" in column_problems(
        {"train_file": str(rows), "text_column": "word", "label_column": "tags"}, "token-classification"
    )


def test_a_squad_file_is_checked_against_its_question_columns(tmp_path):
    squad = tmp_path / "dev.json"
    paragraph = {
        "context": "Paris is in France.",
        "qas": [{"id": "q1", "question": "Where?", "answers": [{"text": "France", "answer_start": 12}]}],
    }
    squad.write_text(
        json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": [paragraph]}]}), encoding="utf-8"
    )
    data = {
        "train_file": str(squad),
        "question_column": "question",
        "context_column": "context",
        "answers_column": "answers",
    }
    assert column_problems(data, "question-answering") == {}
    problems = column_problems({**data, "question_column": "query"}, "question-answering")
    assert (
        list(problems) == ["data.question_column"]
        and "(its columns: id, title, context, question, answers)" in problems["data.question_column"]
    )
