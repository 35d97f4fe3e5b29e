"""SQuAD JSON: `{"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question", "answers"}]}]}]}`.

Read as one row per question, the flat shape of the Hub's `squad` dataset and of transformers'
`run_qa.py`: `id`, `title`, `context`, `question`, `answers` = `{text: [...], answer_start: [...]}`.
SQuAD 2.0's unanswerable questions (`is_impossible`, or no answers) get empty lists; their
`plausible_answers` are not answers and are left out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.core.errors import WorkbenchError

if TYPE_CHECKING:
    import datasets

NAME = "squad"
SNIFF_BYTES = 64 * 1024
FULL_SNIFF_BYTES = 50 * 2**20  # a file this small is parsed whole when its first 64 KB do not decide
_DATA = re.compile(r'"data"\s*:\s*\[')
_PARAGRAPHS = re.compile(r'"paragraphs"\s*:\s*\[')


def sniff(path: Path) -> bool:
    """A `.json` file whose top level is an object with a `data` list of articles with `paragraphs`."""
    path = Path(path)
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if not head.startswith("{") or not _DATA.search(head):
        return False
    if _PARAGRAPHS.search(head):
        return True
    # A first paragraph longer than 64 KB: decide on the whole file when it is small enough.
    if path.stat().st_size > FULL_SNIFF_BYTES:
        return False
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        return False
    articles = document.get("data") if isinstance(document, dict) else None
    return (
        isinstance(articles, list)
        and bool(articles)
        and isinstance(articles[0], dict)
        and isinstance(articles[0].get("paragraphs"), list)
    )


def _fail(path: Path, where: str, problem: str):
    raise WorkbenchError(
        f"{path.name}: {where}: {problem}",
        hint='SQuAD JSON is {"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question",'
        ' "answers": [{"text", "answer_start"}]}]}]}]}.',
    )


def _load(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise WorkbenchError(f"{path.name}: not UTF-8 text (byte {error.start}).") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise WorkbenchError(
            f"{path.name}: not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        _fail(path, "the top level", 'expected an object with a "data" list of articles')
    return document


def _answers(path: Path, where: str, question: dict) -> tuple[list[str], list[int]]:
    if question.get("is_impossible"):
        return [], []
    answers = question.get("answers", [])
    if not isinstance(answers, list):
        _fail(path, where, '"answers" must be a list of {"text", "answer_start"}')
    texts, starts = [], []
    for index, answer in enumerate(answers):
        if not isinstance(answer, dict) or "text" not in answer or "answer_start" not in answer:
            _fail(path, f"{where}.answers[{index}]", 'expected {"text": ..., "answer_start": ...}')
        text, start = answer["text"], answer["answer_start"]
        if not isinstance(text, str):
            _fail(path, f"{where}.answers[{index}]", f'"text" must be a string, not {type(text).__name__}')
        if isinstance(start, bool) or not isinstance(start, int):
            _fail(path, f"{where}.answers[{index}]", f'"answer_start" must be an integer, not {start!r}')
        texts.append(text)
        starts.append(start)
    return texts, starts


COLUMNS = ("id", "title", "context", "question", "answers")  # one row per question


def column_names(path: Path, data: dict) -> list[str]:
    """The columns `read_files` makes of any SQuAD file (checked against the spec's before a run starts)."""
    return list(COLUMNS)


def rows_of(path: Path) -> dict[str, list]:
    """The questions of one SQuAD file as columns."""
    path = Path(path)
    columns: dict[str, list] = {name: [] for name in COLUMNS}
    for a, article in enumerate(_load(path)["data"]):
        where = f"data[{a}]"
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            _fail(path, where, 'expected an article with a "paragraphs" list')
        title = article.get("title")
        title = "" if title is None else str(title)
        for p, paragraph in enumerate(article["paragraphs"]):
            where = f"data[{a}].paragraphs[{p}]"
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str):
                _fail(path, where, 'expected a paragraph with a "context" string')
            if not isinstance(paragraph.get("qas"), list):
                _fail(path, where, 'expected a "qas" list of questions')
            for q, question in enumerate(paragraph["qas"]):
                where = f"data[{a}].paragraphs[{p}].qas[{q}]"
                if not isinstance(question, dict) or not isinstance(question.get("question"), str):
                    _fail(path, where, 'expected a question with a "question" string')
                texts, starts = _answers(path, where, question)
                ident = question.get("id")
                columns["id"].append(str(ident) if ident is not None else f"{a}-{p}-{q}")
                columns["title"].append(title)
                columns["context"].append(paragraph["context"])
                columns["question"].append(question["question"])
                columns["answers"].append({"text": texts, "answer_start": starts})
    if not columns["id"]:
        raise WorkbenchError(f"{path.name}: a SQuAD file with no questions.")
    return columns


def features():
    import datasets

    return datasets.Features(
        {
            "id": datasets.Value("string"),
            "title": datasets.Value("string"),
            "context": datasets.Value("string"),
            "question": datasets.Value("string"),
            "answers": {
                "text": datasets.List(datasets.Value("string")),
                "answer_start": datasets.List(datasets.Value("int32")),
            },
        }
    )


def read_files(paths) -> datasets.Dataset:
    """One split from one or more SQuAD files (v1.1 or v2.0), a question per row."""
    from datasets import Dataset

    merged: dict[str, list] = {}
    for path in paths:
        for name, values in rows_of(Path(path)).items():
            merged.setdefault(name, []).extend(values)
    return Dataset.from_dict(merged, features=features())
