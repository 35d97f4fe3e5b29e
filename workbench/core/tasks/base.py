"""What every task provides, and the defaults most tasks share.

The engine (`training/configure.py`, `training/loop.py`), `workbench eval`, the CLI's `--init` and
the model card call a task only through this interface:

- `guess_data(splits)`: the `data.*` spec values for files a user opened (columns, labels, languages);
- `load_raw(data)`: the raw splits (`train`, `validation`) from the spec's `data` section;
- `prepare(raw, spec, tokenizer)`: a `Prepared` with model-ready splits (tensor columns only);
- `load_model(spec, model_path, labels)` and `collator(tokenizer, pad_to_multiple_of, model)`;
- `evaluator(prepared, spec, tokenizer, accelerator)`: an `Evaluator` fed every evaluation batch in
  order, which returns the metrics and one record per example (kept as the run's predictions);
- `card_info()`: the pipeline tag and model-index task of the model card.

Modules here import transformers, torch and datasets inside functions only: `core` never pays for
them at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError

# The attention and weight-loading options every task's model is loaded with.
SAFE_LOADING = {
    # A checkpoint with a head of another size (2 classes, trained here for 5) gets a new head.
    "ignore_mismatched_sizes": True,
    "use_safetensors": True,  # never unpickle: pickle-only models are refused (training.preflight)
}


@dataclass
class HeadLabels:
    """The head's outputs: class names for classification heads, one output for regression, none for
    language models (`num_labels = 0`)."""

    num_labels: int = 0
    id2label: dict[int, str] = field(default_factory=dict)

    @property
    def regression(self) -> bool:
        return self.num_labels == 1 and not self.id2label

    def model_kwargs(self) -> dict:
        """`from_pretrained` arguments for a classification head.

        Passing `id2label=None` leaves transformers 5's `num_labels` unset and the head's Linear
        fails with `empty(): argument 'size' ... NoneType`."""
        if self.num_labels == 0:
            return {}
        if self.regression:
            return {"num_labels": 1, "problem_type": "regression"}
        id2label = {int(k): v for k, v in self.id2label.items()}
        options: dict[str, Any] = {"num_labels": self.num_labels}
        if id2label:
            options.update(id2label=id2label, label2id={v: k for k, v in id2label.items()})
        return options


@dataclass
class Prepared:
    """A task's data, ready for the loaders.

    `train` and `validation` hold model inputs only (`input_ids`, `attention_mask`, `labels`, …);
    `eval_context` is whatever the evaluator needs besides the batches (QA: the examples and each
    window's offsets; seq2seq: the reference texts); `notes` are warnings for the run's log
    (sentences cut at max_length, answers lost to truncation, …)."""

    train: Any
    validation: Any | None
    labels: HeadLabels
    eval_context: Any = None
    notes: list[str] = field(default_factory=list)


@dataclass
class EvalResult:
    """One evaluation: the metrics (without `eval_loss`, which the loop adds) and per-example records
    as columns of equal length (`id`, `input`, `gold`, `predicted`, `score`, `loss`, …)."""

    metrics: dict[str, float]
    records: dict[str, list] = field(default_factory=dict)
    samples: list[dict] = field(default_factory=list)  # a few predictions next to their references


@dataclass(frozen=True)
class CardInfo:
    pipeline_tag: str
    task_type: str  # the model-index `task.type`
    task_name: str  # the model-index `task.name`


class Evaluator:
    """Fed every evaluation batch in order (`add`), then `finish` once; gathers across processes."""

    def __init__(self, accelerator) -> None:
        self.accelerator = accelerator

    def gather(self, tensors):
        """Tensors from every process, the duplicates of the last batch dropped (Accelerate's rule)."""
        if self.accelerator is None:
            return tensors
        return self.accelerator.gather_for_metrics(tensors)

    def add(self, batch: dict, outputs, model) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def finish(self, eval_loss: float) -> EvalResult:  # pragma: no cover - interface
        raise NotImplementedError


class Task:
    """A task; subclasses set the class attributes and override what differs."""

    name: str = ""
    pipeline_tag: str = ""
    auto_class: str = ""  # the transformers Auto class of the head
    metric_names: tuple[str, ...] = ()  # what `training.metrics` may name for this task
    default_metrics: tuple[str, ...] = ()
    card_task_name: str = ""

    # -- data ------------------------------------------------------------------------------

    def guess_data(self, splits: dict) -> dict:
        """`data.*` values for these raw splits (column names, …), for `workbench train --init`."""
        return {}

    def load_raw(self, data: dict):
        """The raw `DatasetDict` (train, and validation when given) for the spec's data section."""
        return load_spec_files(data)

    def prepare(self, raw, spec: dict, tokenizer) -> Prepared:  # pragma: no cover - interface
        raise NotImplementedError

    def head_labels(self, raw, spec: dict) -> HeadLabels | None:
        """The head's labels read from the raw data without tokenizing (`--init` writes them), or None
        for tasks without labels."""
        return None

    # -- model -----------------------------------------------------------------------------

    def model_kwargs(self, labels: HeadLabels) -> dict:
        return labels.model_kwargs()

    def load_model(self, spec: dict, model_path: str, labels: HeadLabels):
        """The model with this task's head: from the checkpoint, or from its config with random
        weights when `model.from_config` is set (training from scratch)."""
        import transformers

        auto = getattr(transformers, self.auto_class)
        attention = spec["model"].get("attn_implementation") or None
        if spec["model"].get("from_config"):
            config = transformers.AutoConfig.from_pretrained(model_path, **self.model_kwargs(labels))
            return auto.from_config(config, attn_implementation=attention)
        model, loading = auto.from_pretrained(
            model_path,
            attn_implementation=attention,
            output_loading_info=True,
            **SAFE_LOADING,
            **self.model_kwargs(labels),
        )
        # `ignore_mismatched_sizes` is there for a head of another size (2 classes, trained here for 5); a body
        # tensor of another shape would start from random values without a word.
        from workbench.core.models.loading import body_mismatch, own_head_keys

        mismatched = [(key, tuple(old), tuple(new)) for key, old, new in loading.get("mismatched_keys") or []]
        problem = body_mismatch(Path(model_path) / "config.json", mismatched, own_head_keys(model))
        if problem is not None:
            raise WorkbenchError(
                f"model.name_or_path: {problem}; training would start them from random values",
                hint="Restore the config.json saved with these weights (only the head may change size).",
            )
        return model

    def collator(self, tokenizer, pad_to_multiple_of: int | None, model=None):
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(tokenizer, pad_to_multiple_of=pad_to_multiple_of)

    # -- evaluation and sharing ------------------------------------------------------------

    def evaluator(self, prepared: Prepared, spec: dict, tokenizer, accelerator) -> Evaluator:
        raise NotImplementedError  # pragma: no cover - interface

    def chosen_metrics(self, asked: list[str] | None) -> list[str]:
        """The metrics a run computes: those asked for that fit this task, else its defaults."""
        if asked is None:
            return list(self.default_metrics)
        fitting = [name for name in asked if name in self.metric_names]
        return fitting if fitting or not asked else list(self.default_metrics)

    def best_metric(self, asked: list[str] | None) -> str:
        chosen = self.chosen_metrics(asked)
        return chosen[0] if chosen else "eval_loss"

    def card_info(self) -> CardInfo:
        return CardInfo(self.pipeline_tag, self.pipeline_tag, self.card_task_name or self.name)


def require_columns(raw, names: dict[str, str]) -> None:
    """Every `data.<key>` column present in every split, else a message naming key, split and columns."""
    for split, dataset in raw.items():
        for key, name in names.items():
            if name and name not in dataset.column_names:
                raise WorkbenchError(
                    f"data.{key}: no column {name!r} in the {split} data",
                    hint=f"Columns: {', '.join(dataset.column_names)}",
                )


def limit_rows(raw, data: dict):
    """`data.max_train_samples` / `max_eval_samples` applied (0 = all rows)."""
    if data.get("max_train_samples"):
        raw["train"] = raw["train"].select(range(min(data["max_train_samples"], len(raw["train"]))))
    if data.get("max_eval_samples") and "validation" in raw:
        raw["validation"] = raw["validation"].select(range(min(data["max_eval_samples"], len(raw["validation"]))))
    return raw


def load_spec_files(data: dict):
    """A DatasetDict with `train` and, when given, `validation`, from `data.train_file` /
    `data.validation_file` or a Hub `data.dataset`.

    Local files are opened as the Datasets pane opens them (`core.data.loading.open_files`): the
    same TSV/CSV reader, and an empty, binary, non-UTF-8 or ragged file, a bad line, a repeated
    column name or a row count that does not match is refused naming the file, the line and why,
    instead of `datasets`' DatasetGenerationError."""
    from pathlib import Path

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
