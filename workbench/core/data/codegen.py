""" "Show code": the load_dataset / map / collator code that reproduces a preparation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.core.data.loading import builder_for
from workbench.core.data.prepare import VALIDATION_NAMES, PreparePlan

if TYPE_CHECKING:
    from workbench.core.data.labels import LabelInfo
    from workbench.core.data.loading import OpenedDataset


def preparation_code(
    opened: OpenedDataset,
    plan: PreparePlan | None,
    labels: LabelInfo | None,
    model_path: str,
    preview_rows: int = 4,
) -> str:
    header = ["from datasets import ClassLabel, Value, load_dataset, load_from_disk"]
    if opened.kind == "cache":
        header.append("from datasets import Dataset, DatasetDict")
    if opened.fmt in {"csv", "tsv"} and opened.kind == "files":
        header.insert(0, "import csv\n")
    header.append("from transformers import AutoTokenizer, DataCollatorWithPadding")
    lines = header + [""] + _load_lines(opened)
    if plan is None:
        return "\n".join(lines) + "\n"
    train = "train" if "train" in opened.splits else next(iter(opened.splits))
    if plan.label_column:
        lines.append("")
        if labels is not None and labels.task == "regression":
            lines.append(f"# {labels.kind} labels: regression, num_labels=1")
            lines.append(f'data = data.cast_column({plan.label_column!r}, Value("float32"))')
        elif labels is not None and labels.kind != "class_label":
            if labels.kind == "bool":
                lines.append(f'data = data.cast_column({plan.label_column!r}, Value("int64"))')
            lines.append(f"label_names = {list(labels.names)!r}")
            lines.append(f"data = data.cast_column({plan.label_column!r}, ClassLabel(names=label_names))")
        if plan.label_column != "labels":
            lines.append(f'data = data.rename_column({plan.label_column!r}, "labels")')
    if not any(name.lower() in VALIDATION_NAMES for name in opened.splits):
        stratify = ', stratify_by_column="labels"' if labels is not None and labels.task == "classification" else ""
        lines += [
            "",
            "# No validation split: take one from train, seeded.",
            f"parts = data[{train!r}].train_test_split("
            f"test_size={plan.validation_fraction}, seed={plan.seed}{stratify})",
            f'data[{train!r}], data["validation"] = parts["train"], parts["test"]',
        ]
    pair = f", batch[{plan.pair_column!r}]" if plan.pair_column else ""
    lines += [
        "",
        f"tokenizer = AutoTokenizer.from_pretrained({model_path!r})",
        "",
        "",
        "def tokenize(batch):",
        f"    return tokenizer(batch[{plan.text_column!r}]{pair}, truncation=True, max_length={plan.max_length})",
        "",
        "",
        "columns = [c for c in data[" + repr(train) + '].column_names if c != "labels"]',
        "tokenized = data.map(tokenize, batched=True, remove_columns=columns)",
        "",
        "collator = DataCollatorWithPadding(tokenizer=tokenizer)  # pads each batch to its longest row",
        f"batch = collator([tokenized[{train!r}][i] for i in range({preview_rows})])",
        "print({name: tuple(tensor.shape) for name, tensor in batch.items()})",
    ]
    return "\n".join(lines) + "\n"


def _load_lines(opened: OpenedDataset) -> list[str]:
    if opened.kind == "hub":
        config = f", {opened.config!r}" if opened.config else ""
        return [f"data = load_dataset({opened.source!r}{config})"]
    if opened.kind == "saved":
        return [f"data = load_from_disk({opened.source!r})"]
    if opened.kind == "cache":
        lines = ["data = DatasetDict({"]
        for name, paths in opened.split_files.items():
            lines.append(f"    {name!r}: Dataset.from_file({str(paths[0])!r}),")
        return lines + ["})"]
    columns = None if opened.header else next(iter(opened.rows.values())).column_names
    builder, options = builder_for(opened.fmt, columns)
    files = {name: [str(path) for path in paths] for name, paths in opened.split_files.items()}
    files_text = "{\n" + "".join(f"    {name!r}: {paths!r},\n" for name, paths in files.items()) + "}"
    extra = ""
    lines = [f"data_files = {files_text}"]
    if "quoting" in options:
        quoting = "csv.QUOTE_NONE" if options["quoting"] == 3 else "csv.QUOTE_MINIMAL"
        extra = "".join(f", {key}={value!r}" for key, value in options.items() if key != "quoting")
        extra += f", quoting={quoting}"
        if opened.fmt == "tsv":
            lines.append('# TSV is read without quoting: a " inside a field is text, one line is one row.')
    elif "encoding" in options:
        extra = f", encoding={options['encoding']!r}"
    lines.append(f"data = load_dataset({builder!r}, data_files=data_files{extra})")
    return lines
