"""Search and filter a whole split in Arrow batches, yielding progress and matches as it goes.

The caller (a worker) iterates and stops whenever it likes: that is the cancel.
Matching runs in pyarrow compute kernels (RE2 regexes), so no row becomes a Python object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.core.data.labels import require_column, string_columns
from workbench.core.data.rows import RowSource, rows_of
from workbench.core.errors import WorkbenchError

if TYPE_CHECKING:
    import numpy as np
    from datasets import Dataset

BATCH_ROWS = 65_536
OPERATORS = (
    "==", "!=", "<", "<=", ">", ">=",
    "contains", "not contains", "starts with", "ends with", "regex",
    "is empty", "is not empty", "length >", "length <",
)  # fmt: skip
NO_VALUE = {"is empty", "is not empty"}


@dataclass(frozen=True)
class Progress:
    done: int  # rows scanned so far
    total: int
    matches: np.ndarray  # row numbers matched in this batch (int64)


def iter_search(
    dataset: Dataset | RowSource,
    query: str,
    *,
    columns: list[str] | None = None,
    regex: bool = False,
    ignore_case: bool = True,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[Progress]:
    """Rows where any of `columns` (default: every text column) contains `query`."""
    import pyarrow.compute as pc

    if not query:
        raise WorkbenchError("Nothing to search for.")
    dataset = rows_of(dataset)
    columns = columns or string_columns(dataset)
    if not columns:
        raise WorkbenchError("This split has no text columns to search; use a filter instead.")
    for column in columns:
        require_column(dataset, column)
    if regex:
        check_regex(query, ignore_case)

    def match(table):
        mask = None
        for column in columns:
            values = table.column(column)
            if regex:
                hit = pc.match_substring_regex(values, query, ignore_case=ignore_case)
            else:
                hit = pc.match_substring(values, query, ignore_case=ignore_case)
            mask = hit if mask is None else pc.or_(mask, hit)
        return mask

    yield from _scan(dataset, columns, match, batch_rows)


def check_regex(pattern: str, ignore_case: bool = True) -> None:
    """Compile with RE2 (what pyarrow uses) and turn its complaint into a message."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.match_substring_regex(pa.array([""]), pattern, ignore_case=ignore_case)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        reason = str(error).split(":", 1)[-1].strip()
        raise WorkbenchError(f"Invalid regular expression {pattern!r}: {reason}") from None


def iter_filter(
    dataset: Dataset | RowSource, column: str, operator: str, value: str = "", *, batch_rows: int = BATCH_ROWS
) -> Iterator[Progress]:
    """Rows where `column operator value` holds; the value is read as the column's type."""
    dataset = rows_of(dataset)
    require_column(dataset, column)
    if operator not in OPERATORS:
        raise WorkbenchError(f"Unknown operator {operator!r}; use one of: {', '.join(OPERATORS)}.")
    predicate = _predicate(dataset, column, operator, value)
    yield from _scan(dataset, [column], lambda table: predicate(table.column(column)), batch_rows)


def _predicate(dataset: RowSource, column: str, operator: str, value: str) -> Callable:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = dataset.schema.field(column).type
    class_names = dataset.class_names(column)
    is_text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    if operator == "is empty":
        return lambda values: (
            pc.or_(pc.is_null(values), pc.equal(pc.utf8_length(values), 0)) if is_text else pc.is_null(values)
        )
    if operator == "is not empty":
        return lambda values: pc.invert(_predicate(dataset, column, "is empty", "")(values))
    if operator in {"contains", "not contains", "starts with", "ends with", "regex"}:
        if not is_text:
            raise WorkbenchError(f"{operator!r} needs a text column; {column!r} holds {kind}.")
        if operator == "regex":
            check_regex(value)
            return lambda values: pc.match_substring_regex(values, value)
        if operator == "starts with":
            return lambda values: pc.starts_with(values, value)
        if operator == "ends with":
            return lambda values: pc.ends_with(values, value)
        hit = lambda values: pc.match_substring(values, value)  # noqa: E731
        return hit if operator == "contains" else (lambda values: pc.invert(hit(values)))
    if operator in {"length >", "length <"}:
        limit = _number(value, column, "an integer length")
        if is_text:
            measure = pc.utf8_length
        elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
            measure = pc.list_value_length
        else:
            raise WorkbenchError(f"{operator!r} needs a text or list column; {column!r} holds {kind}.")
        compare = pc.greater if operator == "length >" else pc.less
        return lambda values: compare(measure(values), limit)
    scalar = _typed_value(value, column, kind, class_names)
    compare = {
        "==": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal, ">": pc.greater, ">=": pc.greater_equal,
    }[operator]  # fmt: skip
    return lambda values: compare(values, pa.scalar(scalar, type=kind))


def _typed_value(value: str, column: str, kind, class_names: list[str] | None):
    import pyarrow as pa

    if class_names is not None and not value.strip().lstrip("-").isdigit():
        if value not in class_names:
            raise WorkbenchError(f"{value!r} is not a class of {column!r} ({', '.join(class_names)}).")
        return class_names.index(value)
    if pa.types.is_integer(kind):
        number = _number(value, column, "an integer")
        if number != int(number):
            raise WorkbenchError(f"{column!r} holds integers; {value!r} is not one.")
        return int(number)
    if pa.types.is_floating(kind):
        return _number(value, column, "a number")
    if pa.types.is_boolean(kind):
        lowered = value.strip().lower()
        if lowered not in {"true", "false", "1", "0"}:
            raise WorkbenchError(f"{column!r} holds true/false; {value!r} is neither.")
        return lowered in {"true", "1"}
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return value
    raise WorkbenchError(f"Comparisons on {column!r} ({kind}) are not supported; try 'length >' or 'is empty'.")


def _number(value: str, column: str, what: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise WorkbenchError(f"{column!r} needs {what}; {value!r} is not one.") from None


def _scan(dataset: RowSource, columns: list[str], match: Callable, batch_rows: int) -> Iterator[Progress]:
    import numpy as np
    import pyarrow.compute as pc

    total = dataset.num_rows
    start = 0
    for table in dataset.batches(columns, batch_rows):
        mask = pc.fill_null(match(table), False)
        hits = np.flatnonzero(mask.to_numpy(zero_copy_only=False)) + start
        start += table.num_rows
        yield Progress(min(total, start), total, hits.astype(np.int64))
    if total == 0:
        yield Progress(0, 0, np.empty(0, dtype=np.int64))
