"""Prepare a dataset for a head: map columns, encode labels, make a validation split,
tokenize with `map(batched=True)` (cached by a fingerprint of data, tokenizer and
settings, so a second run reuses the datasets cache), and preview a padded batch."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from workbench.core.data.labels import LabelInfo, infer_labels, require_column
from workbench.core.errors import WorkbenchError

if TYPE_CHECKING:
    from datasets import Dataset

    from workbench.core.data.selection import DatasetSelection

VALIDATION_NAMES = ("validation", "valid", "val", "dev", "eval")
PREPARE_VERSION = "workbench-prepare-1"


@dataclass(frozen=True)
class PreparePlan:
    text_column: str
    pair_column: str | None = None
    label_column: str | None = None
    max_length: int = 128
    validation_fraction: float = 0.1
    seed: int = 42


@dataclass
class Prepared:
    splits: dict[str, Dataset]
    plan: PreparePlan
    labels: LabelInfo | None
    validation_created: bool
    reused_cache: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def model_columns(self) -> list[str]:
        first = next(iter(self.splits.values()))
        return list(first.column_names)


def training_split_name(splits: dict) -> str:
    return "train" if "train" in splits else next(iter(splits))


def validation_split_name(splits: dict) -> str | None:
    return next((name for name in splits if name.lower() in VALIDATION_NAMES), None)


def check_plan(splits: dict[str, Dataset], plan: PreparePlan) -> None:
    train = splits[training_split_name(splits)]
    require_column(train, plan.text_column, "text column")
    require_column(train, plan.pair_column, "text pair column")
    require_column(train, plan.label_column, "label column")
    if plan.text_column in {plan.pair_column, plan.label_column}:
        raise WorkbenchError(f"{plan.text_column!r} is mapped twice: text, pair and label must be different columns.")
    if plan.max_length < 1:
        raise WorkbenchError("max_length must be at least 1.")
    if not 0 < plan.validation_fraction < 1:
        raise WorkbenchError("The validation fraction must be between 0 and 1 (e.g. 0.1).")


def encode_labels(
    splits: dict[str, Dataset], plan: PreparePlan
) -> tuple[dict[str, Dataset], LabelInfo | None, list[str]]:
    """String labels -> ClassLabel (names from train); floats -> float32 regression; "labels" column."""
    import datasets

    if plan.label_column is None:
        return dict(splits), None, []
    train_name = training_split_name(splits)
    labels = infer_labels(splits[train_name], plan.label_column)
    out, notes = {}, []
    for name, dataset in splits.items():
        require_column(dataset, plan.label_column, f"label column in split {name!r}")
        try:
            if labels.task == "regression":
                dataset = dataset.cast_column(plan.label_column, datasets.Value("float32"))
            elif labels.kind in {"string", "int", "bool"}:
                if labels.kind == "bool":
                    dataset = dataset.cast_column(plan.label_column, datasets.Value("int64"))
                dataset = dataset.cast_column(plan.label_column, datasets.ClassLabel(names=list(labels.names)))
        except (ValueError, TypeError) as error:
            if name in {train_name, validation_split_name(splits)}:
                raise WorkbenchError(f"Split {name!r}, label column {plan.label_column!r}: {error}") from None
            notes.append(f"Split {name!r} left out: its labels do not fit the classes of {train_name!r} ({error}).")
            continue
        if plan.label_column != "labels":
            if "labels" in dataset.column_names:
                dataset = dataset.remove_columns("labels")
            dataset = dataset.rename_column(plan.label_column, "labels")
        out[name] = dataset
    return out, labels, notes


def add_validation(
    splits: dict[str, Dataset], plan: PreparePlan, labels: LabelInfo | None
) -> tuple[dict[str, Dataset], bool]:
    """A seeded validation split from train when there is none (stratified for classes)."""
    if validation_split_name(splits) is not None:
        return splits, False
    train_name = training_split_name(splits)
    train = splits[train_name]
    if train.num_rows < 2:
        raise WorkbenchError(
            f"Split {train_name!r} has {train.num_rows} row(s): too few to split off a validation set."
        )
    stratify = "labels" if labels is not None and labels.task == "classification" else None
    try:
        parts = train.train_test_split(test_size=plan.validation_fraction, seed=plan.seed, stratify_by_column=stratify)
    except ValueError:  # a class too small to stratify: split without stratification
        parts = train.train_test_split(test_size=plan.validation_fraction, seed=plan.seed)
    out = dict(splits)
    out[train_name] = parts["train"]
    out["validation"] = parts["test"]
    return out, True


def tokenizer_identity(tokenizer) -> str:
    """A stable hash of what the tokenizer does (its serialized pipeline, or its vocabulary)."""
    import json

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        # Calling the tokenizer with truncation=... changes these two; they are set per call anyway.
        pipeline = {k: v for k, v in json.loads(backend.to_str()).items() if k not in {"truncation", "padding"}}
        text = json.dumps(pipeline, sort_keys=True)
    else:
        text = repr(sorted(tokenizer.get_vocab().items()))
    return hashlib.sha256(f"{type(tokenizer).__name__}|{text}".encode()).hexdigest()[:16]


def tokenize_splits(
    splits: dict[str, Dataset],
    plan: PreparePlan,
    tokenizer,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[dict[str, Dataset], dict[str, bool]]:
    """map(batched=True) per split; the fingerprint makes a second run load the cached result."""
    from datasets.fingerprint import Hasher

    identity = tokenizer_identity(tokenizer)
    out, reused = {}, {}
    for name, dataset in splits.items():
        keep = {"labels"}
        remove = [column for column in dataset.column_names if column not in keep]
        calls = 0
        done = 0

        def tokenize(batch, _name=name, _total=dataset.num_rows):
            nonlocal calls, done
            calls += 1
            texts = [text or "" for text in batch[plan.text_column]]
            pairs = [text or "" for text in batch[plan.pair_column]] if plan.pair_column else None
            encoded = tokenizer(texts, pairs, truncation=True, max_length=plan.max_length)
            done += len(texts)
            if progress:
                progress(_name, done, _total)
            return dict(encoded)

        fingerprint = Hasher.hash(
            [PREPARE_VERSION, dataset._fingerprint, identity, plan.text_column, plan.pair_column, plan.max_length]
        )
        out[name] = dataset.map(
            tokenize,
            batched=True,
            batch_size=1000,
            remove_columns=remove,
            new_fingerprint=fingerprint,
            desc=f"Tokenizing {name}",
        )
        reused[name] = calls == 0 and dataset.num_rows > 0
        if progress and reused[name]:
            progress(name, dataset.num_rows, dataset.num_rows)
    return out, reused


def prepare(
    splits: dict[str, Dataset],
    plan: PreparePlan,
    tokenizer,
    progress: Callable[[str, int, int], None] | None = None,
) -> Prepared:
    check_plan(splits, plan)
    encoded, labels, notes = encode_labels(splits, plan)
    with_validation, created = add_validation(encoded, plan, labels)
    if created:
        notes.append(
            f"No validation split: made one from {training_split_name(splits)!r}"
            f" ({plan.validation_fraction:.0%}, seed {plan.seed})."
        )
    tokenized, reused = tokenize_splits(with_validation, plan, tokenizer, progress)
    return Prepared(tokenized, plan, labels, created, reused, notes)


@dataclass(frozen=True)
class CollatorPreview:
    tokens: list[list[str]]  # per row, including padding
    tensors: dict[str, tuple[tuple[int, ...], str, list]]  # name -> (shape, dtype, values as nested lists)


def collator_preview(dataset: Dataset, tokenizer, rows: int = 4) -> CollatorPreview:
    """The batch `DataCollatorWithPadding` makes of the first `rows` rows."""
    from transformers import DataCollatorWithPadding

    count = min(rows, dataset.num_rows)
    if count == 0:
        raise WorkbenchError("No rows to preview.")
    features = dataset.select(range(count)).to_list()
    batch = DataCollatorWithPadding(tokenizer=tokenizer, return_tensors="pt")(features)
    tokens = [tokenizer.convert_ids_to_tokens(ids) for ids in batch["input_ids"].tolist()]
    tensors = {
        name: (tuple(tensor.shape), str(tensor.dtype).replace("torch.", ""), tensor.tolist())
        for name, tensor in batch.items()
    }
    return CollatorPreview(tokens, tensors)


def prepared_selection(selection: DatasetSelection, prepared: Prepared) -> DatasetSelection:
    """The selection after preparing: the columns, labels and settings the preparation used."""
    plan = prepared.plan
    labels = prepared.labels
    return replace(
        selection,
        splits=tuple(prepared.splits),
        text_column=plan.text_column,
        text_pair_column=plan.pair_column,
        label_column=plan.label_column,
        label_names=tuple(labels.names) if labels else (),
        num_labels=labels.num_labels if labels else None,
        task=labels.task if labels else None,
        max_length=plan.max_length,
        prepared=True,
        validation_split=(
            {"from": "train", "fraction": plan.validation_fraction, "seed": plan.seed}
            if prepared.validation_created
            else None
        ),
    )
