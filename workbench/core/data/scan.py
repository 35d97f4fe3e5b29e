"""Independent checks of text files, so a bad row is named by file and line.

`datasets` (through pandas or pyarrow) either fails with a message that names no line,
or, worse, silently merges rows (unbalanced quotes). We scan CSV/TSV with Python's C
`csv` module to count records and check field counts, and we compare that count with
what `datasets` loaded. The scans read the file once, streaming; they keep no rows.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.errors import WorkbenchError

BIG_CELL_BYTES = 1 << 20  # cells above this are reported (and shown truncated), never refused
BOM = "\ufeff"

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class ScanResult:
    records: int
    header: list[str] = field(default_factory=list)
    # (line, column, characters) of cells over BIG_CELL_BYTES
    big_cells: list[tuple[int, str, int]] = field(default_factory=list)


def csv_dialect(fmt: str) -> dict:
    """TSV has no quoting (MRPC has unbalanced quotes inside fields); CSV has RFC 4180 quoting."""
    if fmt == "tsv":
        return {"delimiter": "\t", "quoting": csv.QUOTE_NONE}
    return {"delimiter": ",", "quoting": csv.QUOTE_MINIMAL}


def csv_options(fmt: str, columns: list[str] | None = None) -> dict:
    """How CSV and TSV files are read into `datasets` ("csv" builder, pandas underneath): the one
    reader of the browser, the preparation, the code it shows and the training child.

    - TSV without quoting (`csv_dialect`); CSV with RFC 4180 quoting.
    - UTF-8, a byte-order mark dropped while decoding ("utf-8-sig"): never part of a column name.
    - Only an empty cell is missing; "NA", "null", "None", "n/a" … are text, as in the file
      (pandas' default would turn a sentence "None" into a missing value).
    - `columns`: the file has no header row; these are the column names (`headerless_names`).
    """
    options = {**csv_dialect(fmt), "encoding": "utf-8-sig", "keep_default_na": False, "na_values": [""]}
    if columns is not None:
        options.update(header=None, column_names=list(columns))
    return options


def headerless_names(count: int) -> list[str]:
    """Column names of a file without a header row: column_1 … column_N."""
    return [f"column_{index}" for index in range(1, count + 1)]


class MissingHeaderError(WorkbenchError):
    """The first line of a CSV/TSV file looks like data: it probably has no header row."""


HEADER_SAMPLE_ROWS = 20  # rows after the first that the header check compares it with


def checked_names(names: list[str], columns: list[str]) -> list[str]:
    """Names typed for a file without a header row: one per column, unique, none empty."""
    names = [name.strip() for name in names]
    if len(names) != len(columns):
        raise WorkbenchError(
            f"{len(names)} column names given, but the rows have {len(columns)} fields.",
            hint=f"Give {len(columns)} names, or none for column_1 … column_{len(columns)}.",
        )
    if not all(names) or len(set(names)) != len(names):
        raise WorkbenchError("Column names must be unique and not empty.", hint=f"Given: {', '.join(names)}")
    return names


def scan_csv(path: Path, fmt: str, header: bool = True) -> ScanResult:
    """Count records and check that each has as many fields as the first line.

    With `header`, the first line names the columns (and must look like names, not data);
    without, it is a record and the columns are `column_1` … `column_N`.
    """
    dialect = csv_dialect(fmt)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=fmt == "csv", **dialect)
        start_line = 1
        first: list[str] | None = None
        names: list[str] = []
        sample: list[list[str]] = []  # the rows the header is compared with (until it is checked)
        checked = not header
        records = 0
        big: list[tuple[int, str, int]] = []
        try:
            for row in reader:
                end_line = reader.line_num
                if not row:  # blank line: pandas skips it too
                    start_line = end_line + 1
                    continue
                if first is None:
                    first = row
                    names = row if header else headerless_names(len(row))
                    if header:
                        start_line = end_line + 1
                        continue
                if not checked and (len(sample) >= HEADER_SAMPLE_ROWS or len(row) != len(first)):
                    _check_header(path, first, sample)
                    checked = True
                if len(row) != len(first):
                    raise WorkbenchError(_field_count_message(path, fmt, start_line, end_line, row, first, header))
                records += 1
                if not checked:
                    sample.append(row)
                for column, cell in zip(names, row):
                    if len(cell) > BIG_CELL_BYTES:
                        big.append((start_line, column, len(cell)))
                start_line = end_line + 1
        except csv.Error as error:
            raise WorkbenchError(
                f"{path.name} line {start_line}: malformed {fmt.upper()} ({error}).",
                hint='A quote (") opened in this record is never closed.' if "EOF" in str(error) else None,
            ) from None
        except UnicodeDecodeError as error:
            raise WorkbenchError(f"{path.name} near line {start_line}: not valid UTF-8 ({error.reason}).") from None
    if first is None:
        raise WorkbenchError(f"{path.name}: no header line.")
    if not checked:
        _check_header(path, first, sample)
    if records == 0:
        raise WorkbenchError(f"{path.name}: a header ({len(first)} columns) but no rows.")
    return ScanResult(records, names, big)


def _check_header(path: Path, header: list[str], rows: list[list[str]]) -> None:
    reason = data_like(header, rows)
    if reason:
        raise MissingHeaderError(
            f"{path.name} line 1 looks like data, not a header: {reason}.",
            hint="Open it without a header row (untick 'first line is a header' in the Open dialog, or"
            f" --no-header): the columns are then named column_1 … column_{len(header)}.",
        )
    seen: set[str] = set()
    for index, name in enumerate(header, start=1):
        name = name.strip()
        if not name:
            raise WorkbenchError(f"{path.name} line 1: column {index} has no name in the header.")
        if name in seen:
            raise WorkbenchError(f"{path.name} line 1: the column name {name!r} appears twice in the header.")
        seen.add(name)


def data_like(first: list[str], rows: list[list[str]]) -> str | None:
    """Why a first line reads as a data row rather than column names; None when it reads as names.

    A probable missing header: a number in a column whose other rows hold numbers too (a header
    names such a column with a word: "label", "score"). CoLA's TSV starts `gj04  1    Our friends …`.
    """
    for index, cell in enumerate(first):
        below = [row[index] for row in rows if index < len(row) and row[index] != ""]
        if cell.strip() and _text_kind(cell) != "text" and below and all(_text_kind(v) != "text" for v in below):
            return f"field {index + 1} is {_short(cell)}, a number like the rows below"
    return None


def _field_count_message(
    path: Path, fmt: str, start: int, end: int, row: list[str], first: list[str], header: bool = True
) -> str:
    where = f"line {start}" if start == end else f"lines {start}-{end}"
    what = "the header has" if header else "line 1 has"
    message = f"{path.name} {where}: {len(row)} fields, but {what} {len(first)} columns."
    if start != end and fmt == "csv":
        message += f' A quote (") opened on line {start} swallows the line breaks up to line {end}.'
    return message


def scan_lines(path: Path) -> ScanResult:
    """Count lines as Python's text mode does ("\\n", "\\r\\n" and "\\r" end a line)."""
    records = 0
    longest = (0, 0)
    with path.open(encoding="utf-8-sig", errors="strict") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                records += 1
                if len(line) > longest[1]:
                    longest = (number, len(line))
        except UnicodeDecodeError as error:
            raise WorkbenchError(f"{path.name} near line {records + 1}: not valid UTF-8 ({error.reason}).") from None
    big = [(longest[0], "text", longest[1])] if longest[1] > BIG_CELL_BYTES else []
    return ScanResult(records, ["text"], big)


def scan_jsonl(path: Path) -> ScanResult:
    """Count non-blank lines; each must be a JSON object (checked only when asked to diagnose)."""
    records = 0
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                records += 1
    return ScanResult(records)


def diagnose_jsonl(path: Path) -> str | None:
    """The first line that is not a JSON object, or whose field changes type; None if all fine."""
    kinds: dict[str, tuple[str, int]] = {}
    has_fields = False
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                return f"{path.name} line {number} column {error.colno}: malformed JSON ({error.msg})."
            if not isinstance(value, dict):
                return f"{path.name} line {number}: expected a JSON object, found {type(value).__name__}."
            has_fields = has_fields or bool(value)
            for key, item in value.items():
                kind = _json_kind(item)
                if kind == "null":
                    continue
                first = kinds.setdefault(key, (kind, number))
                if not _compatible(first[0], kind):
                    return (
                        f"{path.name} line {number}, field {key!r}: {_article(kind)} ({_short(item)}),"
                        f" but line {first[1]} has {_article(first[0])}. A column must hold one type."
                    )
    if not has_fields:  # `datasets` says only 'Instruction "train" corresponds to no data!'
        return f"{path.name}: every object is empty ({{}}), so there are no columns."
    return None


def diagnose_csv_column_types(path: Path, fmt: str) -> str | None:
    """The first cell whose type (number or text) differs from the column's first value."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, **csv_dialect(fmt))
        header = next(reader, None)
        if not header:
            return None
        first: dict[int, tuple[str, int, str]] = {}
        line = 1
        for row in reader:
            line = reader.line_num
            for index, cell in enumerate(row):
                if cell == "":
                    continue
                kind = _text_kind(cell)
                seen = first.setdefault(index, (kind, line, cell))
                if not _compatible(seen[0], kind) and index < len(header):
                    return (
                        f"{path.name} line {line}, column {header[index]!r}: {_short(cell)} is {kind}, but line"
                        f" {seen[1]} has {_short(seen[2])} ({seen[0]}). A column must hold one type."
                    )
    return None


def _text_kind(cell: str) -> str:
    try:
        int(cell)
        return "integer"
    except ValueError:
        pass
    try:
        float(cell)
        return "number"
    except ValueError:
        return "text"


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    return "object"


def _compatible(first: str, other: str) -> bool:
    numbers = {"integer", "number"}
    return first == other or (first in numbers and other in numbers)


def _short(value, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def diagnose_load_error(split_files: dict[str, list[Path]], fmt: str, error: Exception) -> str:
    """What `datasets` failed on, named by file and line where a scan finds it (else its first line)."""
    for paths in split_files.values():
        for path in paths:
            found = None
            if fmt in {"csv", "tsv"}:
                found = diagnose_csv_column_types(path, fmt)
            elif fmt == "jsonl":
                found = diagnose_jsonl(path)
            elif fmt == "json":
                found = _diagnose_json_array(path)
            if found:
                return found
    cause = error.__cause__ or error
    first_line = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    names = ", ".join(path.name for paths in split_files.values() for path in paths)
    return f"{names}: could not be read as {fmt.upper()}: {first_line[:300]}"


def _diagnose_json_array(path: Path) -> str | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        return f"{path.name} line {error.lineno} column {error.colno}: malformed JSON ({error.msg})."
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return f"{path.name}: expected a JSON array of objects (or one object a line)."
    # `datasets` says only 'Instruction "train" corresponds to no data!' for these two.
    if not value:
        return f"{path.name}: an empty JSON array, so there are no rows."
    if not any(value):
        return f"{path.name}: every object is empty ({{}}), so there are no columns."
    return None
