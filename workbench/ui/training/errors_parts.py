"""What the Errors view loads and shows besides its widgets: the evaluation to open, the loaded
predictions with their analysis (`core/evaluation/analysis`), the code that reproduces the table,
and the dialog that shows it.

`load_errors` runs in the view's thread worker: it finds the evaluation (a run's latest that kept
predictions, or a predictions file named directly, as `workbench eval` writes), reads the Parquet
file and, for classification, builds the confusion matrix and per-class scores.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomllib

from workbench.core.errors import WorkbenchError
from workbench.core.runs import predictions
from workbench.core.runs.folder import EVENTS_FILE, FINAL_DIR, PREDICTIONS_DIR, SPEC_FILE
from workbench.core.runs.protocol import Evaluation, EventReader, RunStarted

if TYPE_CHECKING:
    import pyarrow as pa

    from workbench.core.evaluation.analysis import ClassScore, ConfusionMatrix
    from workbench.ui.training.errors_spans import QAAnalysis, TokenAnalysis

CLASSIFICATION_HEADS = ("sequence-classification",)
BLOCK_HEADS = ("causal-lm", "masked-lm")
MAX_CLASSES = 100  # more distinct gold/predicted values than this (or than half the rows): not classes


MAX_SHOWN = 200  # examples in the table (DataTable measures every cell); the title says how many matched
CLIP = 60  # characters of a text cell; the detail line below the table shows it whole
# (column, descending, label) per press of `s`; descending None: the column's natural "worst first"
SORTS = {
    "classification": (
        ("loss", None, "loss, highest first"),
        ("score", True, "confidence, highest first"),
        ("score", False, "confidence, lowest first"),
    ),
    "generic": (("loss", None, "loss, highest first"), ("score", None, "score, lowest first")),
    # token classification and question answering: orders over the columns errors_spans adds
    "token": (
        ("errors", True, "mistakes, most first"),
        ("loss", True, "loss, highest first"),
        ("score", False, "confidence, lowest first"),
    ),
    "qa": (
        ("f1", False, "F1, lowest first"),
        ("score", True, "confidence, highest first"),
        ("windows", True, "windows, most first"),
    ),
}
KNOWN = ("row", "id", "gold", "predicted", "score", "loss", "input", "input_pair")


def needs_data(action):
    """An action that does nothing until the predictions are loaded."""

    @functools.wraps(action)
    def guarded(self, *args):
        if self.data is not None:
            return action(self, *args)

    return guarded


def cell(value, clip: int = CLIP) -> str:
    """One table cell: numbers with four decimals, text on one line, cut at `clip` characters."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    text = str(value).replace("\n", " ⏎ ")
    return text if len(text) <= clip else text[: clip - 1] + "…"


@dataclass(frozen=True)
class ErrorsSource:
    """What to open: a run (its latest evaluation that kept predictions, or the one at `step`), or a
    predictions file with the model and data file it came from (a `workbench eval` result)."""

    run_dir: Path | None = None
    step: int | None = None
    predictions: Path | None = None
    model: str | None = None  # the folder the Playground opens
    data_file: str | None = None  # the evaluated file, for the Datasets pane
    split: str = "validation"
    head: str | None = None


@dataclass
class ErrorsData:
    """One evaluation's predictions, read and analysed."""

    table: pa.Table
    path: Path
    title: str
    kind: str  # "classification", "token", "qa" or "generic"
    matrix: ConfusionMatrix | None = None
    scores: list[ClassScore] = field(default_factory=list)
    model: str | None = None
    dataset: dict[str, Any] | None = None  # DatasetRowRequested's fields but the row
    tokens: TokenAnalysis | None = None  # kind "token"
    qa: QAAnalysis | None = None  # kind "qa"
    numbers: dict[str, Any] = field(default_factory=dict)  # column -> numpy array, for sorting "token"/"qa"
    max_length: int | None = None  # the run's data.max_length: the Tokenizer cuts the example there
    stride: int = 0  # question answering's data.doc_stride: the Tokenizer's windows overlap as the run's did


def latest_evaluation(run_dir: Path, step: int | None = None) -> tuple[Evaluation | None, dict]:
    """The run's latest evaluation whose predictions file is still there (or the one at `step`) and
    the run's spec. Only the lines of evaluations and starts are decoded."""
    reader = EventReader(run_dir / EVENTS_FILE)
    found: Evaluation | None = None
    spec: dict = {}
    try:
        with open(reader.path, "rb") as file:
            for line in file:
                if b'"evaluation"' not in line and b'"run_started"' not in line:
                    continue
                event = reader.decode_line(line)
                if isinstance(event, RunStarted):
                    spec = event.spec or spec
                elif isinstance(event, Evaluation) and event.predictions and (step is None or event.step == step):
                    if (run_dir / event.predictions).is_file():
                        found = event
    except FileNotFoundError:
        pass
    if not spec and (run_dir / SPEC_FILE).is_file():
        try:
            spec = tomllib.loads((run_dir / SPEC_FILE).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            spec = {}
    return found, spec


def load_errors(source: ErrorsSource) -> ErrorsData:
    """Find, read and analyse the predictions (in a worker: reads files)."""
    from workbench.core.evaluation.analysis import confusion_matrix, number_column, per_class_scores

    spec: dict = {}
    metrics: dict = {}
    step = source.step
    model, dataset = source.model, _dataset_of_file(source.data_file, source.split)
    if source.predictions is not None:
        path = Path(source.predictions)
        name = path.stem
    elif source.run_dir is not None:
        run_dir = Path(source.run_dir)
        event, spec = latest_evaluation(run_dir, step)
        if event is not None:
            path, step, metrics = run_dir / event.predictions, event.step, event.metrics
        else:
            path, step = _newest_file(run_dir, step)
        name = run_dir.name if step is not None else f"{run_dir.name} · {path.stem}"
        model = model or (str(run_dir / FINAL_DIR) if (run_dir / FINAL_DIR).is_dir() else None)
        dataset = dataset or _dataset_of_spec(spec.get("data") or {})
    else:
        raise WorkbenchError("nothing to open: give a run or a predictions file")
    table = read_predictions(path)
    about = eval_about(table)  # what `workbench eval` wrote with its predictions
    model = model or about.get("model") or None
    dataset = dataset or _dataset_of_file(about.get("data_file"), source.split)
    metrics = metrics or about.get("metrics") or {}
    head = source.head or (spec.get("model") or {}).get("head") or about.get("task")
    kind = "classification" if _is_classification(table, head) else "generic"
    if head in BLOCK_HEADS:
        dataset = None  # language-model examples are blocks of the concatenated text, not rows of the file
    parts = [name, f"step {step:,}" if step is not None else "", f"{table.num_rows:,} examples"]
    parts += [f"{_short(key)} {value:.4f}" for key, value in list(metrics.items())[:4] if isinstance(value, float)]
    data = ErrorsData(table, path, " · ".join(part for part in parts if part), kind, model=model, dataset=dataset)
    for column in ("loss", "score"):  # pyarrow's to_numpy imports pandas (1-3 s): here, not in the UI thread
        if column in table.column_names:
            number_column(table, column)
    max_length = (spec.get("data") or {}).get("max_length")
    data.max_length = max_length if isinstance(max_length, int) and max_length > 0 else None
    stride = (spec.get("data") or {}).get("doc_stride")
    if head == "question-answering" and isinstance(stride, int) and stride > 0:
        data.stride = stride
    if kind == "generic":
        _analyse_spans(data, head)
    if kind == "classification":
        labels = [str(label) for _, label in sorted(_id2label(spec).items())] or list(about.get("labels") or [])
        data.matrix = confusion_matrix(table, [str(label) for label in labels] or None)
        data.scores = per_class_scores(data.matrix)
    return data


def _analyse_spans(data: ErrorsData, head: str | None) -> None:
    """Token classification and question answering: their spans analysed, their numbers added as columns."""
    import numpy as np
    import pyarrow as pa

    from workbench.core.evaluation.analysis import number_column
    from workbench.ui.training import errors_spans

    table = data.table
    if errors_spans.is_token_table(table, head):
        data.kind = "token"
        data.tokens, added = errors_spans.analyse_tokens(table)
    elif errors_spans.is_qa_table(table, head):
        data.kind = "qa"
        data.qa, added = errors_spans.analyse_qa(table)
    else:
        return
    for name, values in added.items():
        data.numbers[name] = np.asarray(values, dtype=np.float64)
        if name not in table.column_names:
            table = table.append_column(name, pa.array(values))
    for name in ("loss", "score", "windows"):
        if name in table.column_names:
            data.numbers[name] = np.asarray(number_column(table, name), dtype=np.float64)
    data.table = table


def _newest_file(run_dir: Path, step: int | None) -> tuple[Path, int | None]:
    """No evaluation event names a kept file: the newest step-N.parquet, else the newest `workbench eval` result."""
    kept = [entry for entry in predictions.listing(run_dir) if step is None or entry[0] == step]
    if kept:
        return kept[-1][1], kept[-1][0]
    results = sorted((run_dir / PREDICTIONS_DIR).glob("eval-*.parquet"), key=lambda path: path.stat().st_mtime)
    if step is None and results:
        return results[-1], None
    raise WorkbenchError(
        f"{run_dir.name} has no kept predictions" + (f" for step {step}" if step is not None else ""),
        hint="Runs keep the predictions of their newest evaluations (training.predictions_keep);"
        " `workbench eval RUN --data FILE` writes more.",
    )


def read_predictions(path: Path) -> pa.Table:
    """The predictions file as a table. `ParquetFile.read`, not `pq.read_table`: that one imports
    pyarrow.dataset first (1-2 s on a busy machine, 20 times the read of 10,000 examples)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        raise WorkbenchError(f"{path}: no such predictions file")
    try:
        return pq.ParquetFile(path).read()
    except (pa.ArrowException, OSError) as error:
        raise WorkbenchError(f"{path}: not a predictions file ({error})") from None


def has_predictions(run_dir: Path) -> bool:
    """Whether the run kept any predictions (an evaluation's or a `workbench eval` result)."""
    folder = Path(run_dir) / PREDICTIONS_DIR
    return folder.is_dir() and any(folder.glob("*.parquet"))


def eval_about(table: pa.Table) -> dict:
    """The `workbench.eval` metadata `workbench eval` writes (task, model, data file, labels, metrics), or {}."""
    raw = (table.schema.metadata or {}).get(b"workbench.eval")
    try:
        about = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return about if isinstance(about, dict) else {}


def _short(name: str) -> str:
    return name.removeprefix("eval_")


def _id2label(spec: dict) -> dict[int, str]:
    mapping = (spec.get("model") or {}).get("id2label") or {}
    try:
        return {int(key): value for key, value in mapping.items()}
    except (TypeError, ValueError, AttributeError):
        return {}


def _is_classification(table: pa.Table, head: str | None) -> bool:
    from workbench.core.evaluation.analysis import is_regression, text_column

    names = table.column_names
    if "gold" not in names or "predicted" not in names or is_regression(table):
        return False
    if head is not None:
        return head in CLASSIFICATION_HEADS
    import pyarrow as pa

    if not all(pa.types.is_string(table.schema.field(n).type) for n in ("gold", "predicted")):
        return False
    classes = set(text_column(table, "gold")) | set(text_column(table, "predicted"))
    return len(classes) <= min(MAX_CLASSES, max(2, table.num_rows // 2))


def _dataset_of_file(data_file: str | None, split: str) -> dict | None:
    if not data_file:
        return None
    if Path(data_file).is_dir():  # a folder of split files: the Datasets pane opens its first split
        return {"source": str(data_file), "split": None, "splits": None, "config": None}
    return {"source": str(data_file), "split": split, "splits": {split: [str(data_file)]}, "config": None}


def _dataset_of_spec(data: dict) -> dict | None:
    """Where the evaluated rows are: the spec's validation file, or its Hub dataset's validation split."""
    if data.get("validation_file"):
        return _dataset_of_file(str(data["validation_file"]), "validation")
    if data.get("dataset"):
        split = data.get("validation_split") or "validation"
        return {"source": data["dataset"], "split": split, "splits": None, "config": data.get("dataset_config") or None}
    return None


def examples_code(
    data: ErrorsData, by: str, descending: bool | None, gold: str | None, predicted: str | None, wrong: bool
) -> str:
    """pandas/pyarrow code that reproduces what the view shows, filters and order included."""
    path, kind = data.path, data.kind
    ascending = not (by == "loss" if descending is None else descending)
    lines = [
        "import pyarrow.parquet as pq",
        "",
        f"records = pq.read_table({str(path)!r}).to_pandas()",
        'records.insert(0, "row", range(len(records)))  # the row in the evaluated file',
    ]
    if kind == "classification":
        lines += [
            "",
            "# Confusion matrix: gold classes in rows, predicted classes in columns",
            'matrix = pd.crosstab(records["gold"], records["predicted"])',
            f"labels = {data.matrix.labels if data.matrix else []!r}  # the model's order",
            "matrix = matrix.reindex(index=labels, columns=labels, fill_value=0)",
            "print(matrix)",
            "print(matrix.div(matrix.sum(axis=1), axis=0).round(3))  # row-normalised",
            "",
            "# Precision, recall, F1 and support per class",
            "true_positive = np.diag(matrix)",
            "precision = true_positive / np.maximum(matrix.sum(axis=0).to_numpy(), 1)",
            "recall = true_positive / np.maximum(matrix.sum(axis=1).to_numpy(), 1)",
            "f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)",
            "print(pd.DataFrame({'precision': precision, 'recall': recall, 'f1': f1,",
            "                    'support': matrix.sum(axis=1).to_numpy()}, index=labels).round(4))",
        ]
        lines[0:0] = ["import numpy as np", "import pandas as pd"]
    lines += ["", "# The examples, worst first"]
    conditions = []
    if gold is not None:
        conditions.append(f'(records["gold"] == {gold!r})')
    if predicted is not None:
        conditions.append(f'(records["predicted"] == {predicted!r})')
    if wrong:
        conditions.append('(records["gold"] != records["predicted"])')
    selected = f"records[{' & '.join(conditions)}]" if conditions else "records"
    lines += [
        f'examples = {selected}.sort_values("{by}", ascending={ascending}, na_position="last", kind="stable")',
        "print(examples.head(50).to_string())",
    ]
    return "\n".join(lines) + "\n"
