"""CoNLL column files: one token per line with its tags in columns, blank lines between sentences.

The shape of CoNLL-2003 (`EU NNP B-NP B-ORG`), WNUT, OntoNotes exports and most NER corpora:
columns separated by spaces or by tabs (a tab-separated file keeps spaces inside a column), any
number of columns, the token first and the tag last (or the column `data.conll_tag_index` names),
`-DOCSTART-` lines between documents. Each sentence becomes one row: `id`, `tokens`, `ner_tags`
(the tag column) and the other columns as lists (`column_2`, … numbered from 1 as in the file).
"""

from __future__ import annotations

import re
from itertools import islice
from pathlib import Path

from workbench.core.errors import WorkbenchError

NAME = "conll"
SUFFIXES = {".txt", ".conll", ".iob", ".bio", ".iob2", ".bioes", ".tsv"}
SNIFF_LINES = 200
DOCSTART = "-DOCSTART-"
# O, or a B/I/E/S (BIOES) or U/L (BILOU) prefix, a dash and a type: "B-PER", "I-geo-loc", "S-MISC".
TAG = re.compile(r"^(O|[BIESUL]-\S+)$")
ENTITY_TAG = re.compile(r"^[BIESUL]-\S+$")
HINT = (
    "A CoNLL file has one token per line with its tags in columns (space- or tab-separated),"
    " the same number of columns on every line, and a blank line between sentences."
)


def _separator(line: str) -> str | None:
    """Tab-separated when the line has a tab (tokens may then hold spaces); else any whitespace."""
    return "\t" if "\t" in line else None


def _fields(line: str, separator: str | None) -> list[str]:
    if separator is None:
        return line.split()
    return [field.strip() for field in line.strip("\r\n").strip(" ").split("\t")]


def _is_docstart(fields: list[str]) -> bool:
    return bool(fields) and fields[0] == DOCSTART


def sniff(path: Path) -> bool:
    """True for a CoNLL column file: in the first lines, every non-blank line has the same number
    (two or more) of columns, sentences are separated (blank or `-DOCSTART-` lines) and a column
    after the first holds only tags (O, B-X, I-X, E-X, S-X, U-X, L-X), some of them entities.

    Ordinary text, TSV tables with a header row and parallel text fail one of these at once."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES or not path.is_file():
        return False
    with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
        lines = list(islice(handle, SNIFF_LINES))
    rows: list[list[str]] = []
    separated = False
    separator = None
    for line in lines:
        if not line.strip():
            separated = separated or bool(rows)
            continue
        if separator is None and not rows:
            separator = _separator(line)
        fields = _fields(line, separator)
        if _is_docstart(fields):
            separated = True
            continue
        rows.append(fields)
    if len(rows) < 2 or not separated:
        return False
    width = len(rows[0])
    if width < 2 or any(len(fields) != width for fields in rows):
        return False
    for column in range(width - 1, 0, -1):  # the last column first
        values = [fields[column] for fields in rows]
        if all(TAG.match(value) for value in values) and any(ENTITY_TAG.match(value) for value in values):
            return True
    return False


def read_sentences(path: Path, tag_index: int = -1):
    """(width, sentences) of one file; each sentence a list of rows of `width` columns."""
    path = Path(path)
    sentences: list[list[list[str]]] = []
    current: list[list[str]] = []
    width = 0
    separator: str | None = None
    first_line = 0
    try:
        with path.open("r", encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    if current:
                        sentences.append(current)
                        current = []
                    continue
                if separator is None and not width:
                    separator = _separator(line)
                fields = _fields(line, separator)
                if _is_docstart(fields):
                    if current:
                        sentences.append(current)
                        current = []
                    continue
                if not width:
                    width, first_line = len(fields), number
                    if width < 2:
                        raise WorkbenchError(
                            f"{path.name} line {number}: one column ({line.strip()[:60]!r}); a CoNLL file needs"
                            " the token and at least one tag column.",
                            hint=HINT,
                        )
                elif len(fields) != width:
                    raise WorkbenchError(
                        f"{path.name} line {number}: {len(fields)} column(s), but line {first_line} has {width}"
                        f" ({line.strip()[:60]!r}).",
                        hint=HINT,
                    )
                current.append(fields)
    except UnicodeDecodeError as error:
        raise WorkbenchError(f"{path.name}: not UTF-8 text ({error.reason} at byte {error.start}).") from None
    if current:
        sentences.append(current)
    if not sentences:
        raise WorkbenchError(f"{path.name}: no sentences (only blank or -DOCSTART- lines).", hint=HINT)
    return width, sentences


def tag_column(width: int, tag_index: int, path: Path) -> int:
    """The 0-based column holding the tags, checked against the file's `width` columns."""
    index = tag_index + width if tag_index < 0 else tag_index
    if not 0 < index < width:
        raise WorkbenchError(
            f"data.conll_tag_index = {tag_index}: {path.name} has {width} columns (the token is column 0);"
            f" the tag column must be 1 to {width - 1}, or -1 for the last.",
        )
    return index


def _names(width: int, tag: int) -> list[str]:
    """The columns of a file `width` columns wide with its tags in column `tag`."""
    return ["id", "tokens", "ner_tags"] + [f"column_{index + 1}" for index in range(1, width) if index != tag]


def column_names(path: Path, data: dict) -> list[str] | None:
    """The columns `read_files` makes of `path`, from its first token line alone (the new-run form and
    every launch check the spec's columns against them); None for a file with no token line."""
    path = Path(path)
    with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
        for line in handle:
            fields = _fields(line, _separator(line))
            if fields and not _is_docstart(fields):
                width = len(fields)
                return _names(width, tag_column(width, int(data.get("conll_tag_index", -1)), path))
    return None


def read_files(paths, tag_index: int = -1):
    """One `datasets.Dataset` of sentences from CoNLL files (every file with the same columns)."""
    import datasets

    columns: dict[str, list] = {}
    names: list[str] = []
    width = 0
    first: Path | None = None
    for path in paths:
        path = Path(path)
        file_width, sentences = read_sentences(path, tag_index)
        if not width:
            width, first = file_width, path
            tag = tag_column(width, tag_index, path)
            others = [index for index in range(1, width) if index != tag]
            names = _names(width, tag)
            columns = {name: [] for name in names}
        elif file_width != width:
            raise WorkbenchError(
                f"{path.name} has {file_width} columns but {first.name} has {width};"
                " files of one split need the same columns."
            )
        for sentence in sentences:
            columns["id"].append(str(len(columns["id"])))
            columns["tokens"].append([row[0] for row in sentence])
            columns["ner_tags"].append([row[tag] for row in sentence])
            for index in others:
                columns[f"column_{index + 1}"].append([row[index] for row in sentence])
    features = datasets.Features(
        {name: datasets.Value("string") if name == "id" else datasets.List(datasets.Value("string")) for name in names}
    )
    return datasets.Dataset.from_dict(columns, features=features)
