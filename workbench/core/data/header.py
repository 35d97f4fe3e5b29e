"""The column names of a data file, read from its first record only (the new-run form checks the
spec's columns against them before a run starts, in well under a second even for a large file).

The same readers as the Datasets pane's scan: CSV/TSV through `scan.csv_dialect` (UTF-8, a
byte-order mark dropped), JSON lines from the first object, Parquet from its footer, text files
as the one column "text". None where the names cannot be known without loading the file.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from workbench.core.data import scan
from workbench.core.data.files import EXTENSIONS
from workbench.core.errors import WorkbenchError

JSONL_LINES = 100  # records whose keys make up a JSON lines file's columns


def file_columns(path: Path, *, header: bool = True) -> list[str] | None:
    """Column names of `path`; None for a format (or a folder) whose names need a full load.
    `header=False`: a CSV/TSV without a header row, whose columns are column_1 … column_N.

    Raises WorkbenchError for a file that cannot be read, naming the file and why."""
    path = Path(path)
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None or not path.is_file():
        return None
    try:
        if fmt in ("csv", "tsv"):
            names = _csv_header(path, fmt)
            return names if header else scan.headerless_names(len(names))
        if fmt == "jsonl":
            return _jsonl_keys(path)
        if fmt == "json":
            return _json_lines_keys(path)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        if fmt == "text":
            return ["text"]
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as error:
        raise WorkbenchError(f"{path.name}: cannot read its column names ({error}).") from None
    return None


def _csv_header(path: Path, fmt: str) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle, **scan.csv_dialect(fmt)):
            if row:
                return row
    return []


def _json_lines_keys(path: Path) -> list[str] | None:
    """A .json file holding JSON lines; None for a JSON document (an array, a nested object)."""
    try:
        return _jsonl_keys(path) or None
    except ValueError:
        return None


def _jsonl_keys(path: Path) -> list[str]:
    names: dict[str, None] = {}
    with path.open(encoding="utf-8-sig") as handle:
        for count, line in enumerate(handle):
            if count >= JSONL_LINES:
                break
            if line.strip():
                record = json.loads(line)
                if isinstance(record, dict):
                    names.update(dict.fromkeys(record))
    return list(names)
