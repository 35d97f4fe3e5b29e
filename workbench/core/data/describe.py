"""The summary of an opened dataset that `workbench data info` prints and the pane shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.core.data.features import describe_feature  # noqa: F401 (re-exported)
from workbench.core.data.files import human_size
from workbench.core.data.labels import guess_columns, infer_labels
from workbench.core.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.core.data.loading import OpenedDataset


def dataset_info(opened: OpenedDataset) -> dict:
    """Splits, rows, sizes, features, guessed columns, label names and the inferred task."""
    first = next(iter(opened.rows.values()))
    features = first.describe_columns()
    guess = guess_columns(first)
    label_names: list[str] = []
    task = None
    label_problem = None
    if guess.label:
        try:
            labels = infer_labels(_training_split(opened), guess.label)
            label_names, task = list(labels.names), labels.task
        except WorkbenchError as error:
            label_problem = str(error)
    return {
        "path": opened.source,
        "name": opened.name,
        "kind": opened.kind,
        "format": opened.fmt,
        "header": opened.header,
        "splits": {
            name: {
                "rows": rows.num_rows,
                "files": [path.name for path in opened.split_files.get(name, [])],
                "source_bytes": opened.source_bytes(name),
                "arrow_bytes": opened.arrow_bytes(name),
            }
            for name, rows in opened.rows.items()
        },
        "features": features,
        "text_column": guess.text,
        "text_pair_column": guess.pair,
        "label_column": guess.label,
        "label_names": label_names,
        "task": task,
        "label_problem": label_problem,
        "warnings": list(opened.warnings),
    }


def _training_split(opened: OpenedDataset):
    return opened.rows.get("train") or next(iter(opened.rows.values()))


def format_info(info: dict) -> str:
    """The human form of `dataset_info`, for the CLI."""
    lines = [f"{info['name']}  ({info['kind']}, {info['format'] or 'arrow'})", "", "splits:"]
    for name, split in info["splits"].items():
        size = human_size(split["source_bytes"] or split["arrow_bytes"])
        files = f"  [{', '.join(split['files'])}]" if split["files"] and info["kind"] == "files" else ""
        lines.append(f"  {name:<12} {split['rows']:>12,} rows  {size:>9}{files}")
    if not info.get("header", True):
        lines.append("  (no header row: the columns are named column_1 … column_N)")
    lines += ["", "features:"]
    width = max((len(name) for name in info["features"]), default=0)
    for name, kind in info["features"].items():
        lines.append(f"  {name:<{width}}  {kind}")
    lines.append("")
    lines.append(f"text column:  {info['text_column'] or '-'}")
    lines.append(f"pair column:  {info['text_pair_column'] or '-'}")
    lines.append(f"label column: {info['label_column'] or '-'}")
    if info["task"]:
        names = ", ".join(info["label_names"]) if info["label_names"] else "num_labels=1"
        lines.append(f"task:         {info['task']} ({names})")
    if info["label_problem"]:
        lines.append(f"labels:       {info['label_problem']}")
    for warning in info["warnings"]:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)
