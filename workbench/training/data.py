"""Data for a run: local files (CSV, TSV, JSON, JSONL, Parquet) or a Hub dataset, tokenized.

Local files go through the Datasets pane's reader (`core.data.loading`): TSV the way GLUE writes
it, tab-separated with no quoting (MRPC has unbalanced `"` inside fields), a UTF-8 byte-order mark
never part of a column name, and every file checked before `datasets` reads it. String labels become a ClassLabel;
float labels mean regression (one output), as the Datasets pane infers (core.data.labels).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.errors import WorkbenchError


@dataclass
class LabelInfo:
    num_labels: int
    id2label: dict[int, str] = field(default_factory=dict)

    @property
    def regression(self) -> bool:
        return self.num_labels == 1


def load_raw(data: dict):
    """A DatasetDict with `train` and, when given, `validation`.

    Local files are opened as the Datasets pane opens them (`core.data.loading.open_files`): the
    same TSV/CSV reader, and an empty, binary, non-UTF-8 or ragged file, a bad line, a repeated
    column name or a row count that does not match is refused naming the file, the line and why,
    instead of `datasets`' DatasetGenerationError."""
    import datasets

    if data.get("dataset"):
        from workbench.core.hub.status import require_online

        require_online(data["dataset"])
        loaded = datasets.load_dataset(data["dataset"], data.get("dataset_config") or None)
        splits = {"train": loaded[data.get("train_split", "train")]}
        validation_split = data.get("validation_split", "validation")
        if validation_split in loaded:
            splits["validation"] = loaded[validation_split]
        return datasets.DatasetDict(splits)
    from workbench.core.data.loading import open_files

    splits = {}
    for split, key in (("train", "train_file"), ("validation", "validation_file")):
        if data.get(key):
            path = Path(data[key])
            try:
                opened = open_files({split: [path]}, source=str(path))
            except WorkbenchError as error:
                raise WorkbenchError(f"data.{key}: {error.message}", hint=error.hint) from None
            splits[split] = opened.splits[split]
    return datasets.DatasetDict(splits)


def _check_columns(raw, data: dict) -> None:
    for split, dataset in raw.items():
        for key in ("text_column", "text_pair_column", "label_column"):
            name = data.get(key)
            if name and name not in dataset.column_names:
                raise WorkbenchError(
                    f"data.{key}: no column {name!r} in the {split} data",
                    hint=f"Columns: {', '.join(dataset.column_names)}",
                )


def label_info(raw, data: dict, model_section: dict):
    """Turn labels into ids and say how many there are; returns (raw, LabelInfo).

    Classification or regression follows the Datasets pane's rule (`core.data.labels.infer_labels`:
    floats, and integers with many or negative values, mean regression); a spec that sets
    `model.num_labels` or `model.id2label` asks for classes, or with `num_labels = 1` for regression."""
    import datasets

    from workbench.core.data.labels import infer_labels

    label = data["label_column"]
    train = raw["train"]
    feature = train.features[label]
    configured = {int(k): v for k, v in (model_section.get("id2label") or {}).items()}
    if isinstance(feature, datasets.ClassLabel):
        return raw, LabelInfo(feature.num_classes, dict(enumerate(feature.names)))
    dtype = getattr(feature, "dtype", "")
    if not dtype:
        raise WorkbenchError(f"data.label_column: labels of type {feature} are not supported")
    inferred = {split: infer_labels(dataset, label) for split, dataset in raw.items()}
    asked = model_section.get("num_labels") or 0
    regression = inferred["train"].task == "regression"
    if asked == 1 or (inferred["train"].kind == "float" and not configured and asked == 0):
        regression = True
    elif inferred["train"].kind == "int" and (configured or asked > 1):
        regression = False
    if regression:
        if dtype in ("string", "large_string"):
            raise WorkbenchError("data.label_column: text labels cannot be regression targets (model.num_labels = 1)")
        return raw.cast_column(label, datasets.Value("float32")), LabelInfo(1)
    if dtype.startswith("float"):
        raise WorkbenchError(
            "data.label_column: float labels mean regression; set model.num_labels = 0 (or 1) and no model.id2label"
        )
    if dtype in ("string", "large_string"):
        names = sorted(set(train[label]))
        if configured:
            names = [configured[i] for i in sorted(configured)]
        label2id = {name: index for index, name in enumerate(names)}

        def encode(batch):
            try:
                return {label: [label2id[value] for value in batch[label]]}
            except KeyError as error:
                raise WorkbenchError(f"data.label_column: label {error.args[0]!r} is not in {names}") from None

        raw = raw.map(encode, batched=True)
        raw = raw.cast_column(label, datasets.ClassLabel(names=names))
        return raw, LabelInfo(len(names), dict(enumerate(names)))
    if dtype.startswith(("int", "uint", "bool")):
        values = set(train[label])
        if "validation" in raw:
            values |= set(raw["validation"][label])
        if min(values) < 0:
            raise WorkbenchError(f"data.label_column: class ids must be 0 or more, found {min(values)}")
        count = max(asked, max(values) + 1, len(configured))
        id2label = configured or {index: str(index) for index in range(count)}
        return raw, LabelInfo(count, id2label)
    raise WorkbenchError(f"data.label_column: labels of type {dtype} are not supported")


def prepare(spec: dict, tokenizer):
    """Load, label and tokenize; returns (tokenized DatasetDict with `labels`, LabelInfo)."""
    data = spec["data"]
    raw = load_raw(data)
    _check_columns(raw, data)
    if data.get("max_train_samples"):
        raw["train"] = raw["train"].select(range(min(data["max_train_samples"], len(raw["train"]))))
    if data.get("max_eval_samples") and "validation" in raw:
        raw["validation"] = raw["validation"].select(range(min(data["max_eval_samples"], len(raw["validation"]))))
    raw, labels = label_info(raw, data, spec["model"])
    text, pair, label = data["text_column"], data.get("text_pair_column") or None, data["label_column"]
    max_length = data["max_length"]

    def tokenize(batch):
        first = [value if value is not None else "" for value in batch[text]]
        second = [value if value is not None else "" for value in batch[pair]] if pair else None
        return tokenizer(first, second, truncation=True, max_length=max_length)

    columns = raw["train"].column_names
    with tokenizer_parallelism():
        tokenized = raw.map(tokenize, batched=True, remove_columns=[c for c in columns if c != label])
    tokenized = tokenized.rename_column(label, "labels")
    return tokenized, labels


@contextmanager
def tokenizer_parallelism():
    """The Rust tokenizer on every core for the one-off tokenization, then off again.

    The launcher sets TOKENIZERS_PARALLELISM=false for the child, because data-loader workers are
    forked and a tokenizer that has used its thread pool must not be used across a fork. Mapping the
    data before any worker exists is safe, and a batch of 1,000 rows on 16 cores is many times faster
    than on one (24 s for 100,000 MRPC pairs on one core of an H200 host)."""
    before = os.environ.get("TOKENIZERS_PARALLELISM")
    os.environ["TOKENIZERS_PARALLELISM"] = "true"
    try:
        yield
    finally:
        os.environ["TOKENIZERS_PARALLELISM"] = "false" if before is None else before
