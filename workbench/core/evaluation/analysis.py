"""What went wrong in one evaluation: the functions behind the Errors view, `workbench eval` and the card.

Everything here reads a predictions table (`core/runs/predictions.py` writes one per evaluation of a
run, `workbench eval` one per file evaluated) as a `pyarrow.Table`. Classification records have the
columns `id`, `input`, [`input_pair`], `gold`, `predicted`, `score` (the predicted class's
probability), `loss` (per example); other tasks keep `id`, `gold`, `predicted` and `loss` where they
have them and add their own columns, which the functions here carry along untouched.

- `read_predictions(path)`: the table, or a `WorkbenchError` naming the file;
- `confusion_matrix(table)`: a `ConfusionMatrix` (labels, counts, row-normalised rates);
- `per_class_scores(table_or_matrix)`: a `ClassScore` (precision, recall, F1, support) per class;
- `worst_examples(table, by="loss"|"score", gold=, predicted=, limit=)`: the rows to look at first;
- `flips(table_a, table_b)`: a `Flips` of the examples whose correctness changed between two models;
- `confusion_matrix_text`, `per_class_table_markdown`, `evaluation_table_markdown`: text for the card
  and the terminal.

No torch, no transformers: numpy and pyarrow only, so the view is ready in well under a second for
10,000 examples (benchmarks/eval_speed.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.core.errors import WorkbenchError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pyarrow as pa

SORT_KEYS = ("loss", "score")


# -- reading -----------------------------------------------------------------------------------


def read_predictions(path: str | Path) -> pa.Table:
    """The predictions file as a table; a missing or unreadable file is a `WorkbenchError` naming it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"{path}: no such predictions file")
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise WorkbenchError(f"{path}: not a predictions file ({error})") from None


def require(table: pa.Table, *names: str) -> None:
    """Every named column present, else a message naming the missing one and the columns there are."""
    missing = [name for name in names if name not in table.column_names]
    if missing:
        raise WorkbenchError(
            f"the predictions have no {', '.join(repr(name) for name in missing)} column",
            hint=f"Columns: {', '.join(table.column_names)}",
        )


def text_column(table: pa.Table, name: str) -> list[str]:
    """A column as strings (None as ""), whatever Arrow type it was written with."""
    return ["" if value is None else str(value) for value in table.column(name).to_pylist()]


def number_column(table: pa.Table, name: str) -> np.ndarray:
    """A numeric column as float64 (NaN where missing or not a number)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = table.column(name)
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    values = []
    for value in column.to_pylist():
        try:
            values.append(float(value))
        except (TypeError, ValueError):
            values.append(math.nan)
    return np.asarray(values, dtype=np.float64)


def is_regression(table: pa.Table) -> bool:
    """True when gold values are numbers with a fractional part written as such ("0.35", "4.0"):
    a regression head's records (`sequence_classification` writes `str(float)`)."""
    if "gold" not in table.column_names or table.num_rows == 0:
        return False
    sample = [value for value in table.column("gold").slice(0, 200).to_pylist() if value is not None]
    if not sample or not all(isinstance(value, (str, float)) for value in sample):
        return False
    for value in sample:
        if isinstance(value, float):
            continue
        if "." not in value and "e" not in value.lower():
            return False
        try:
            float(value)
        except ValueError:
            return False
    return True


def correct(table: pa.Table) -> np.ndarray:
    """Per example, whether the prediction was right: a task's own `correct` column when it wrote one,
    else `gold == predicted` (spans and tag lists compare whole)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if "correct" in table.column_names:
        return np.asarray([bool(value) for value in table.column("correct").to_pylist()], dtype=bool)
    require(table, "gold", "predicted")
    gold, predicted = table.column("gold"), table.column("predicted")
    if gold.type == predicted.type and (pa.types.is_string(gold.type) or pa.types.is_integer(gold.type)):
        equal = pc.fill_null(pc.equal(gold, predicted), False)
        return equal.to_numpy(zero_copy_only=False).astype(bool, copy=False)
    return np.asarray([a == b for a, b in zip(gold.to_pylist(), predicted.to_pylist())], dtype=bool)


def natural_order(labels) -> list[str]:
    """Class names in a reading order: by number when every name is an integer ("2" before "10"),
    else alphabetically."""
    labels = list(labels)
    try:
        return sorted(labels, key=int)
    except ValueError:
        return sorted(labels)


# -- classification ----------------------------------------------------------------------------


@dataclass
class ConfusionMatrix:
    """Gold classes in rows, predicted classes in columns, both in `labels` order.

    `counts[i, j]` is how many examples of class `labels[i]` were predicted `labels[j]`;
    `normalised[i, j]` is that count over the row's total (0 for a class with no examples)."""

    labels: list[str]
    counts: np.ndarray  # int64, (n, n)
    normalised: np.ndarray  # float64, (n, n); each non-empty row sums to 1

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @property
    def accuracy(self) -> float:
        return float(self.counts.trace() / self.total) if self.total else 0.0

    def support(self) -> np.ndarray:
        """Examples per gold class (row sums)."""
        return self.counts.sum(axis=1)


def confusion_matrix(table: pa.Table, labels: list[str] | None = None) -> ConfusionMatrix:
    """The confusion matrix of a classification table (`gold`, `predicted` as class names).

    `labels` fixes the order (say the model's `id2label` order) and may name classes that never
    occur; classes found in the table but not in `labels` are added after them. By default every
    class seen in gold or predicted, in `natural_order`. A regression table has no classes: a
    `WorkbenchError`."""
    import numpy as np

    require(table, "gold", "predicted")
    if is_regression(table):
        raise WorkbenchError("a confusion matrix needs classes; these predictions are regression values")
    gold = text_column(table, "gold")
    predicted = text_column(table, "predicted")
    seen = set(gold) | set(predicted)
    order = list(labels or [])
    order += natural_order(seen - set(order))
    index = {name: position for position, name in enumerate(order)}
    size = len(order)
    gold_ids = np.fromiter((index[name] for name in gold), dtype=np.int64, count=len(gold))
    predicted_ids = np.fromiter((index[name] for name in predicted), dtype=np.int64, count=len(predicted))
    counts = np.bincount(gold_ids * size + predicted_ids, minlength=size * size).reshape(size, size)
    rows = counts.sum(axis=1, keepdims=True)
    normalised = np.divide(counts, rows, out=np.zeros((size, size), dtype=np.float64), where=rows > 0)
    return ConfusionMatrix(order, counts.astype(np.int64), normalised)


@dataclass(frozen=True)
class ClassScore:
    """One class's scores (scikit-learn's `precision_recall_fscore_support`, zero_division=0)."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int  # gold examples of this class


def per_class_scores(source: pa.Table | ConfusionMatrix, labels: list[str] | None = None) -> list[ClassScore]:
    """Precision, recall, F1 and support per class, in the matrix's label order.

    `source` is a predictions table (its confusion matrix is built with `labels`) or a
    `ConfusionMatrix` already built. A class never predicted has precision 0, one with no gold
    examples recall 0 (scikit-learn's `zero_division=0`)."""
    import numpy as np

    matrix = source if isinstance(source, ConfusionMatrix) else confusion_matrix(source, labels)
    counts = matrix.counts.astype(np.float64)
    true_positive = np.diag(counts)
    predicted = counts.sum(axis=0)
    actual = counts.sum(axis=1)
    precision = np.divide(true_positive, predicted, out=np.zeros_like(true_positive), where=predicted > 0)
    recall = np.divide(true_positive, actual, out=np.zeros_like(true_positive), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(true_positive), where=both > 0)
    return [
        ClassScore(label, float(p), float(r), float(f), int(s))
        for label, p, r, f, s in zip(matrix.labels, precision, recall, f1, actual)
    ]


# -- examples ----------------------------------------------------------------------------------


def worst_examples(
    table: pa.Table,
    by: str = "loss",
    gold: str | None = None,
    predicted: str | None = None,
    limit: int | None = 50,
    *,
    wrong_only: bool = False,
    descending: bool | None = None,
) -> pa.Table:
    """The examples to look at first, as a table with a leading `row` column (the row's index in
    `table`, which is also its row in the evaluated file for classification).

    `by="loss"` puts the highest loss first; `by="score"` the lowest score first (the least
    confident prediction, or the lowest BLEU/ROUGE for tasks that score examples that way);
    `descending` reverses either. `gold` / `predicted` keep only the rows of that class (compared as
    text); `wrong_only` keeps only wrong predictions. Rows whose key is missing (NaN) come last.
    `limit=None` keeps every matching row."""
    import numpy as np
    import pyarrow as pa

    if by not in SORT_KEYS:
        raise WorkbenchError(f"cannot sort examples by {by!r}", hint=f"Choose one of: {', '.join(SORT_KEYS)}")
    require(table, by)
    keep = np.ones(table.num_rows, dtype=bool)
    if gold is not None:
        require(table, "gold")
        keep &= np.asarray(text_column(table, "gold"), dtype=object) == str(gold)
    if predicted is not None:
        require(table, "predicted")
        keep &= np.asarray(text_column(table, "predicted"), dtype=object) == str(predicted)
    if wrong_only:
        keep &= ~correct(table)
    rows = np.flatnonzero(keep)
    key = number_column(table, by)[rows]
    high_first = (by == "loss") if descending is None else descending
    ordering = -key if high_first else key
    ordering = np.where(np.isnan(ordering), np.inf, ordering)
    rows = rows[np.argsort(ordering, kind="stable")]
    if limit is not None:
        rows = rows[: max(0, limit)]
    picked = table.take(pa.array(rows, type=pa.int64()))
    return picked.add_column(0, "row", pa.array(rows, type=pa.int64()))


@dataclass
class Flips:
    """Examples whose correctness changed from model A to model B, matched by `id`.

    `fixed`: A was wrong and B right; `broken`: A right and B wrong. Both tables have `id`, the
    inputs and `gold` once, then `predicted_a`, `predicted_b`, and `score_a`/`score_b`,
    `loss_a`/`loss_b` where the predictions have them, in A's row order."""

    fixed: pa.Table
    broken: pa.Table
    compared: int  # examples present in both
    correct_a: int  # of those, right in A
    correct_b: int  # of those, right in B
    only_a: list = field(default_factory=list)  # ids A has and B lacks
    only_b: list = field(default_factory=list)  # ids B has and A lacks

    @property
    def count(self) -> int:
        return self.fixed.num_rows + self.broken.num_rows


def flips(table_a: pa.Table, table_b: pa.Table) -> Flips:
    """Compare two models' predictions on the same examples (joined by `id`).

    Both tables need `id`, `gold` and `predicted` (or a `correct` column). A gold value that
    differs between the two for the same id means they did not evaluate the same examples: a
    `WorkbenchError` naming the first such id. Regression predictions have no right or wrong: an
    error as well."""
    import numpy as np
    import pyarrow as pa

    for name, table in (("A", table_a), ("B", table_b)):
        require(table, "id")
        if is_regression(table):
            raise WorkbenchError(f"model {name}'s predictions are regression values: no example is right or wrong")
    ids_a = table_a.column("id").to_pylist()
    ids_b = table_b.column("id").to_pylist()
    position_b = {value: position for position, value in enumerate(ids_b)}
    if len(position_b) != len(ids_b):
        raise WorkbenchError("model B's predictions repeat an example id; flips need one row per example")
    rows_a, rows_b = [], []
    for position, value in enumerate(ids_a):
        other = position_b.get(value)
        if other is not None:
            rows_a.append(position)
            rows_b.append(other)
    seen_a = set(ids_a)
    only_a = [value for value in ids_a if value not in position_b]
    only_b = [value for value in ids_b if value not in seen_a]
    a = table_a.take(pa.array(rows_a, type=pa.int64()))
    b = table_b.take(pa.array(rows_b, type=pa.int64()))
    if "gold" in a.column_names and "gold" in b.column_names:
        gold_a, gold_b = text_column(a, "gold"), text_column(b, "gold")
        for index, (left, right) in enumerate(zip(gold_a, gold_b)):
            if left != right:
                raise WorkbenchError(
                    f"example {a.column('id')[index].as_py()!r} has gold {left!r} for A and {right!r} for B",
                    hint="Compare two models' predictions on the same file.",
                )
    right_a, right_b = correct(a), correct(b)
    joined = _side_by_side(a, b)
    fixed = joined.filter(pa.array(~right_a & right_b))
    broken = joined.filter(pa.array(right_a & ~right_b))
    return Flips(fixed, broken, a.num_rows, int(np.sum(right_a)), int(np.sum(right_b)), only_a, only_b)


def _side_by_side(a: pa.Table, b: pa.Table) -> pa.Table:
    """A's shared columns once (id, inputs, gold), then each model's own columns suffixed _a / _b."""
    shared = [name for name in ("id", "input", "input_pair", "gold") if name in a.column_names]
    columns = {name: a.column(name) for name in shared}
    for name in ("predicted", "score", "loss"):
        if name in a.column_names:
            columns[f"{name}_a"] = a.column(name)
        if name in b.column_names:
            columns[f"{name}_b"] = b.column(name)
    import pyarrow as pa

    return pa.table(columns)


# -- text for the terminal and the model card ---------------------------------------------------


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def confusion_matrix_text(matrix: ConfusionMatrix, *, normalised: bool = False, label_width: int = 14) -> str:
    """The matrix as aligned plain text (gold in rows, predicted in columns), for a card or a terminal.

    ```
    gold \\ predicted  negative  positive
    negative               40         3
    positive                5        52
    ```
    `normalised=True` shows row rates with two decimals instead of counts."""
    names = [_clip(label, label_width) for label in matrix.labels]
    values = matrix.normalised if normalised else matrix.counts
    cells = [[f"{value:.2f}" if normalised else str(int(value)) for value in row] for row in values]
    corner = "gold \\ predicted"
    first = max([len(corner), *(len(name) for name in names)])
    widths = [max([len(name), *(len(row[j]) for row in cells)]) for j, name in enumerate(names)]
    lines = ["  ".join([corner.ljust(first), *(name.rjust(widths[j]) for j, name in enumerate(names))]).rstrip()]
    for name, row in zip(names, cells):
        lines.append("  ".join([name.ljust(first), *(cell.rjust(widths[j]) for j, cell in enumerate(row))]))
    return "\n".join(lines)


def per_class_table_markdown(scores: list[ClassScore]) -> str:
    """A Markdown table: class, precision, recall, F1, support (four decimals)."""
    lines = ["| Class | Precision | Recall | F1 | Support |", "|---|---:|---:|---:|---:|"]
    for score in scores:
        label = score.label.replace("|", "\\|")
        lines.append(f"| {label} | {score.precision:.4f} | {score.recall:.4f} | {score.f1:.4f} | {score.support} |")
    return "\n".join(lines)


def format_metric(value) -> str:
    """A metric value as the tables show it: four decimals for numbers, text as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def metric_name(name: str) -> str:
    """`eval_loss` -> `loss`; other names as they are (the card and the terminal drop the prefix)."""
    return name[len("eval_") :] if name.startswith("eval_") else name


def evaluation_table_markdown(metrics: dict) -> str:
    """The metrics as a two-column Markdown table (`| Metric | Value |`), in the order given,
    `eval_` prefixes dropped; empty string for no metrics."""
    if not metrics:
        return ""
    lines = ["| Metric | Value |", "|---|---:|"]
    for name, value in metrics.items():
        lines.append(f"| {metric_name(str(name))} | {format_metric(value)} |")
    return "\n".join(lines)
