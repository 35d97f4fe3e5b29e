"""Which columns are text, pair and label, and what head the label asks for.

This module is the one home of the label rule; the Datasets pane, the preparation, the shown
code and the training child (`training/data.py`) all call `infer_labels`:

- a `ClassLabel` column: classification with its names;
- booleans: classification, classes False and True;
- floats: regression (one output, `num_labels=1`), even when every value is whole (2.0);
- integers: classification with classes 0 … max when every value is in 0 … 999 and there are at
  most 100 different values; otherwise (a negative value, or many different values: a score
  or a year stored as integers) regression;
- text: classification, the classes sorted by name; a column mixing numbers and text, or
  with more than 1,000 different values (a text column, surely), is an error naming a row;
- an empty label is an error naming its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.core.data.features import LABEL_NAMES, MAX_CLASSES, MAX_INT_CLASSES, PAIR_NAMES, TEXT_NAMES
from workbench.core.data.rows import RowSource, rows_of
from workbench.core.errors import WorkbenchError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pyarrow as pa
    from datasets import Dataset

SENTENCE_CHARS = 15  # mean length from which a string column reads as sentences (not codes or ids)


@dataclass(frozen=True)
class ColumnGuess:
    text: str | None
    pair: str | None
    label: str | None


@dataclass(frozen=True)
class LabelInfo:
    task: str  # "classification" or "regression"
    names: tuple[str, ...]  # class names; () for regression
    kind: str  # "class_label", "string", "int", "bool" or "float"

    @property
    def num_labels(self) -> int:
        return 1 if self.task == "regression" else len(self.names)


def string_columns(dataset: Dataset | RowSource) -> list[str]:
    import pyarrow as pa

    schema = rows_of(dataset).schema
    return [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]


def guess_columns(dataset: Dataset | RowSource) -> ColumnGuess:
    """The columns a model reads, guessed from names first, then from position and types.

    Label: a ClassLabel column, else a column with a label-like name (`LABEL_NAMES`).
    Text and pair: two columns named as a pair (`PAIR_NAMES`: sentence1/sentence2, premise/
    hypothesis, #1 String/#2 String …), the first of the pair being the text whatever the lengths;
    else the sentence-like string columns (15 characters or more on average) in file order: the
    first is the text, a second one the pair; else the longest string column alone.
    """
    import pyarrow.compute as pc

    dataset = rows_of(dataset)
    label = _guess_label(dataset)
    texts = [name for name in string_columns(dataset) if name != label]
    by_lower = {name.lower().strip(): name for name in texts}
    for first, second in PAIR_NAMES:
        if first in by_lower and second in by_lower:
            return ColumnGuess(by_lower[first], by_lower[second], label)
    sample = dataset.slice(0, min(200, dataset.num_rows), texts)
    lengths = {name: pc.mean(pc.utf8_length(sample.column(name))).as_py() or 0.0 for name in texts}
    sentences = [name for name in texts if lengths[name] >= SENTENCE_CHARS]
    if len(sentences) >= 2:
        return ColumnGuess(sentences[0], sentences[1], label)
    named = [by_lower[name] for name in TEXT_NAMES if name in by_lower]
    if sentences:
        return ColumnGuess(sentences[0], None, label)
    if named:
        return ColumnGuess(named[0], None, label)
    longest = max(texts, key=lambda name: lengths[name], default=None)
    return ColumnGuess(longest, None, label)


def _guess_label(dataset: RowSource) -> str | None:
    for name in dataset.column_names:
        if dataset.class_names(name) is not None:
            return name
    by_lower = {name.lower().strip(): name for name in dataset.column_names}
    for candidate in LABEL_NAMES:
        if candidate in by_lower:
            return by_lower[candidate]
    return None


def infer_labels(dataset: Dataset | RowSource, column: str) -> LabelInfo:
    """The head a label column asks for (the rule is in this module's docstring); mixed types
    and empty labels are errors naming a row."""
    dataset = rows_of(dataset)
    require_column(dataset, column)
    names = dataset.class_names(column)
    if names is not None:
        return LabelInfo("classification", tuple(names), "class_label")
    values = dataset.column(column)
    if dataset.feature_kind(column) == "Json":
        _raise_mixed_json(values, column)
    return infer_label_values(values, column)


def infer_label_values(values: pa.Array | pa.ChunkedArray | Sequence, column: str = "label") -> LabelInfo:
    """The same rule on the values alone (an Arrow array, or a Python list of one type)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        try:
            values = pa.array(list(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise WorkbenchError(f"Label column {column!r} mixes types ({error}).") from None
    nulls = values.null_count
    if nulls:
        first = pc.index(pc.is_null(values), True).as_py()
        raise WorkbenchError(f"Label column {column!r}: row {first} is empty ({nulls} empty labels in all).")
    kind = values.type
    if pa.types.is_boolean(kind):
        return LabelInfo("classification", ("False", "True"), "bool")
    if pa.types.is_floating(kind):
        return LabelInfo("regression", (), "float")
    if pa.types.is_integer(kind):
        if len(values) == 0:
            return LabelInfo("classification", (), "int")
        low, high = (item.as_py() for item in pc.min_max(values).values())
        distinct = len(pc.unique(values))
        if low >= 0 and high < MAX_CLASSES and distinct <= MAX_INT_CLASSES:
            return LabelInfo("classification", tuple(str(i) for i in range(high + 1)), "int")
        return LabelInfo("regression", (), "int")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        names = sorted(str(v) for v in pc.unique(values).to_pylist())
        _check_one_kind(values, names, column)
        if len(names) > MAX_CLASSES:
            raise WorkbenchError(
                f"Label column {column!r} has {len(names):,} different values; is it a text column?",
                hint="Pick the label column in the mapping.",
            )
        return LabelInfo("classification", tuple(names), "string")
    raise WorkbenchError(f"Label column {column!r} has type {kind}, which is not a label (text, integer or float).")


def _check_one_kind(values, names: list[str], column: str) -> None:
    import pyarrow.compute as pc

    numeric = [name for name in names if _is_number(name)]
    if numeric and len(numeric) < len(names):
        words = [name for name in names if not _is_number(name)]
        minority = words if len(words) <= len(numeric) else numeric
        majority = numeric if minority is words else words
        row = pc.index(values, minority[0]).as_py()
        raise WorkbenchError(
            f"Label column {column!r} mixes numbers and text: row {row} holds {minority[0]!r}"
            f" while other rows hold {majority[0]!r}.",
            hint="Fix the rows or pick another label column.",
        )


def _raise_mixed_json(values, column: str) -> None:
    """`datasets` reads a JSON field whose type changes from row to row as a Json column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    storage = values.cast(pa.string()) if not hasattr(values, "storage") else values.storage
    first_chars = pc.utf8_slice_codeunits(storage, 0, 1).to_pylist()
    kinds = [_json_kind(char) for char in first_chars]
    first = next((i for i, kind in enumerate(kinds) if kind != "null"), None)
    if first is not None:
        other = next((i for i, kind in enumerate(kinds) if kind not in {"null", kinds[first]}), None)
        if other is not None:
            raise WorkbenchError(
                f"Label column {column!r} mixes types: row {other} holds {storage[other].as_py()}"
                f" ({kinds[other]}) while row {first} holds {storage[first].as_py()} ({kinds[first]}).",
                hint="Fix the rows or pick another label column.",
            )
    raise WorkbenchError(f"Label column {column!r} holds JSON values (lists or objects), not labels.")


def _json_kind(first_char: str | None) -> str:
    if not first_char or first_char == "n":
        return "null"
    if first_char == '"':
        return "text"
    if first_char in "tf":
        return "boolean"
    if first_char in "[{":
        return "list or object"
    return "number"


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def require_column(dataset: Dataset | RowSource, column: str | None, role: str = "column") -> None:
    if column is not None and column not in dataset.column_names:
        raise WorkbenchError(f"No {role} {column!r}: the columns are {', '.join(map(repr, dataset.column_names))}.")
