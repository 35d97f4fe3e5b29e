"""Readable feature types and the summary `workbench data info` prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.core.data.files import human_size
from workbench.core.data.labels import guess_columns, infer_labels
from workbench.core.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.core.data.loading import OpenedDataset


def describe_feature(feature) -> str:
    """Value('large_string') -> "string"; List(Value('int32')) -> "list<int32>"; ClassLabel -> names."""
    kind = type(feature).__name__
    if isinstance(feature, dict):
        inner = ", ".join(f"{name}: {describe_feature(value)}" for name, value in feature.items())
        return "{" + inner + "}"
    if isinstance(feature, list):
        return f"list<{describe_feature(feature[0])}>"
    if kind == "Value":
        dtype = feature.dtype
        return "string" if dtype in {"string", "large_string"} else dtype
    if kind == "ClassLabel":
        return describe_class_label(feature.names)
    if kind in {"List", "LargeList", "Sequence"}:
        length = getattr(feature, "length", -1)
        size = f", {length}" if length not in (-1, None) else ""
        return f"list<{describe_feature(feature.feature)}{size}>"
    if kind.startswith("Array"):
        return f"array{feature.shape}<{feature.dtype}>"
    return kind.lower()


def describe_class_label(names: list[str]) -> str:
    shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
    return f"class label ({len(names)}: {shown})"


def describe_arrow_type(kind) -> str:
    """The same words as `describe_feature`, from an Arrow type (Parquet read in place)."""
    import pyarrow as pa

    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return "string"
    if pa.types.is_fixed_size_list(kind):
        return f"list<{describe_arrow_type(kind.value_type)}, {kind.list_size}>"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_list_view(kind):
        return f"list<{describe_arrow_type(kind.value_type)}>"
    if pa.types.is_struct(kind):
        return "{" + ", ".join(f"{field.name}: {describe_arrow_type(field.type)}" for field in kind) + "}"
    if pa.types.is_dictionary(kind):
        return describe_arrow_type(kind.value_type)
    names = {pa.float16(): "float16", pa.float32(): "float32", pa.float64(): "float64"}
    return names.get(kind, str(kind))


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
