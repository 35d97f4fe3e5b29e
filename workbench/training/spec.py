"""Run specs: everything needed to reproduce a run, as TOML, validated before launch.

Keys follow transformers' `TrainingArguments` names wherever one exists, so a Hugging Face
user knows them at sight. `validate_spec` reports every problem at once, each by its dotted
field name; `apply_overrides` handles `--set training.learning_rate=3e-5`.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
import tomllib

from workbench.core.errors import WorkbenchError
from workbench.core.tasks import TASK_NAMES

EMBEDDED_MODEL = "embedded"  # alias for the encoder shipped with workbench
HEADS = TASK_NAMES
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup", "polynomial", "cosine_with_restarts")
MIXED_PRECISION = ("no", "fp16", "bf16")
DISTRIBUTED = ("ddp", "fsdp")
RDZV_BACKENDS = ("static", "c10d", "etcd", "etcd-v2")
METRICS = ("accuracy", "f1", "precision", "recall", "matthews_correlation", "pearsonr", "spearmanr")
# Every task's metric names; `validate_spec` checks them against the chosen task's own list.
ALL_METRICS = (
    *METRICS,
    "exact_match",
    "has_answer_f1",
    "no_answer_f1",
    "perplexity",
    "bleu",
    "chrf",
    "rouge1",
    "rouge2",
    "rougeL",
    "rougeLsum",
)
EVAL_STRATEGIES = ("no", "steps", "epoch")
NAN_POLICIES = ("stop", "skip")
COMPILE_MODES = ("reduce-overhead", "default", "max-autotune", "max-autotune-no-cudagraphs")
DATA_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".parquet": "parquet",
    # token classification (CoNLL column files) and language modelling (raw text)
    ".txt": "text",
    ".raw": "text",
    ".conll": "text",
    ".iob": "text",
    ".bio": "text",
}

# The schema: section -> key -> (default, comment). The default's type is the expected type.
SCHEMA: dict[str, dict[str, tuple[Any, str]]] = {
    "model": {
        "name_or_path": (EMBEDDED_MODEL, 'local folder, Hub id, or "embedded" for the shipped encoder'),
        "head": ("sequence-classification", "the task: " + " | ".join(TASK_NAMES)),
        "num_labels": (0, "0 = infer from the label column (float labels mean regression)"),
        "id2label": ({}, 'e.g. {0 = "negative", 1 = "positive"}; empty = from the data'),
        "attn_implementation": ("sdpa", '"sdpa" (fused attention), "eager"'),
        "torch_compile": (
            False,
            "torch.compile: steps 2x faster on a GPU after a few minutes of compiling, for long runs;"
            " batches padded as model.compile_dynamic says",
        ),
        "compile_mode": ("reduce-overhead", '"reduce-overhead" (CUDA graphs), "default", "max-autotune"'),
        "compile_dynamic": (
            True,
            "torch.compile: one graph for every sequence length (batches padded to a multiple of"
            " training.pad_to_multiple_of, at least 8; a CUDA graph recorded per length);"
            " false = one compile per data.pad_to_buckets length",
        ),
        "from_config": (False, "start from the model's config with random weights (train from scratch)"),
        "lora": (
            {},
            "LoRA through peft, under peft's names: {r = 8, lora_alpha = 16, lora_dropout = 0.05,"
            " target_modules = [...], save_merged = false}; r > 0 turns it on",
        ),
    },
    "data": {
        "train_file": ("", "CSV, TSV, JSON, JSONL or Parquet file (or CoNLL, raw text, parallel text, SQuAD JSON)"),
        "validation_file": ("", "optional; evaluation is skipped without it"),
        "dataset": ("", "a Hub dataset id instead of files (needs the network)"),
        "dataset_config": ("", "the dataset's configuration name, if it has several"),
        "train_split": ("train", "split names when `dataset` is used"),
        "validation_split": ("validation", ""),
        "text_column": ("text", "column with the input text"),
        "text_pair_column": ("", "second text for pair tasks (paraphrase, NLI); empty = none"),
        "label_column": ("label", "strings become class labels; floats mean regression"),
        "max_length": (128, "tokens; longer inputs are truncated (seq2seq: the source)"),
        # token classification
        "label_all_tokens": (False, "token classification: label every sub-token (else the first; the rest -100)"),
        "conll_tag_index": (-1, "CoNLL column files: the column holding the tag (-1 = the last)"),
        # question answering (the names of transformers' run_qa.py)
        "question_column": ("question", "question answering: the question"),
        "context_column": ("context", "question answering: the passage"),
        "answers_column": ("answers", "question answering: {text: [...], answer_start: [...]}"),
        "id_column": ("id", "question answering: the example id"),
        "doc_stride": (128, "question answering: tokens shared by consecutive windows of a long context"),
        "max_answer_length": (30, "question answering: longest answer, in tokens"),
        "n_best_size": (20, "question answering: start and end candidates per window"),
        "version_2_with_negative": (False, "question answering: some questions have no answer (SQuAD 2.0)"),
        "null_score_diff_threshold": (0.0, "question answering: predict no answer above this score difference"),
        # language modelling
        "block_size": (0, "masked/causal LM: tokens per training block; 0 = data.max_length"),
        "mlm_probability": (0.15, "masked LM: share of tokens masked"),
        "whole_word_mask": (False, "masked LM: mask whole words, not single sub-tokens"),
        "text_file_mode": ("line", "raw .txt files: line = a document per line, paragraph = blank-line separated"),
        # sequence to sequence
        "source_column": ("", "seq2seq: the input text column (translation: empty = data.source_lang)"),
        "target_column": ("", "seq2seq: the output text column (translation: empty = data.target_lang)"),
        "source_lang": ("", 'translation: the source language code, e.g. "en" (parallel files train.en + train.de)'),
        "target_lang": ("", 'translation: the target language code, e.g. "de"'),
        "source_prefix": ("", 'seq2seq: text put before every input (T5: "translate English to German: ")'),
        "max_target_length": (128, "seq2seq: tokens of the target; longer targets are truncated"),
        "max_train_samples": (0, "0 = all rows"),
        "max_eval_samples": (0, "0 = all rows"),
        "cache": (True, "keep the tokenized data in <runs dir>/.cache/ and reuse it for the same data and tokenizer"),
        "pad_to_buckets": (
            [],
            "pad each batch up to the next of these lengths, e.g. [32, 64, 96, 128]; [] = off, or with"
            " model.torch_compile and compile_dynamic = false: 32, 64, 96, 128, 192, 256, ... up to max_length"
            " (one graph per length)",
        ),
    },
    "training": {
        "learning_rate": (5e-5, "peak learning rate of AdamW"),
        "num_train_epochs": (3.0, ""),
        "max_steps": (-1, "> 0 overrides num_train_epochs (optimizer steps)"),
        "per_device_train_batch_size": (8, ""),
        "per_device_eval_batch_size": (32, ""),
        "gradient_accumulation_steps": (1, ""),
        "warmup_ratio": (0.0, "fraction of the steps spent warming up"),
        "weight_decay": (0.0, ""),
        "adam_beta1": (0.9, ""),
        "adam_beta2": (0.999, ""),
        "adam_epsilon": (1e-8, ""),
        "max_grad_norm": (1.0, "gradient clipping; 0 = off"),
        "lr_scheduler_type": ("linear", " | ".join(SCHEDULERS)),
        "seed": (42, ""),
        "mixed_precision": ("no", "no | fp16 | bf16 (GPU)"),
        "eval_strategy": ("epoch", "no | steps | epoch (steps also evaluates at each epoch end)"),
        "eval_steps": (0, "evaluate every N optimizer steps when eval_strategy = steps"),
        "save_steps": (0, "checkpoint every N steps; 0 = at each epoch end"),
        "save_total_limit": (2, "checkpoints kept (the newest)"),
        "logging_steps": (10, "a step event every N optimizer steps"),
        "metrics": (["accuracy", "f1"], " | ".join(METRICS) + "; [] = the loss only"),
        "metric_for_best_model": ("", "empty = the first metric"),
        "num_processes": (1, "processes (GPUs) for accelerate launch; of each machine when num_machines > 1"),
        "num_machines": (1, "machines (nodes) of the run; > 1 always goes through accelerate launch"),
        "machine_rank": (0, "this machine's rank, 0 to num_machines - 1 (0 is the main one)"),
        "main_process_ip": ("", "the main machine's IP or host name, reachable from every machine"),
        "main_process_port": (0, "the rendezvous port on the main machine; 0 = Accelerate's 29500"),
        "rdzv_backend": ("static", " | ".join(RDZV_BACKENDS) + ": torchrun's rendezvous"),
        "distributed": ("ddp", "ddp | fsdp: how several processes share the work (FSDP2 shards the model)"),
        "accelerate_config": ("", "an Accelerate config file (from `accelerate config`) for the launch; empty = none"),
        "use_cpu": (False, "train on the CPU even when a GPU is present"),
        "group_by_length": (False, "batch rows of similar length together (less padding)"),
        "pad_to_multiple_of": (8, "pad batches to a multiple of this (tensor cores); 0 = off"),
        "dataloader_num_workers": (0, ""),
        "dataloader_pin_memory": (True, "pinned host memory for faster copies to the GPU"),
        "fused_optimizer": (True, "fused AdamW kernel (CUDA, CPU, XPU, MPS), as Trainer's default adamw_torch_fused"),
        "report_to": ([], 'mirror events to trackers: "tensorboard", "trackio", "wandb" (each an optional extra)'),
        "generation_num_beams": (1, "seq2seq evaluation: beams of generate()"),
        "generation_max_length": (128, "seq2seq evaluation: longest generated output, in tokens"),
        "predictions_keep": (3, "evaluations whose per-example predictions are kept (predictions/); 0 = none"),
    },
    "monitor": {
        "step_events": (True, "write step events (the loss curve)"),
        "system_sample_interval_s": (2.0, "CPU/GPU samples every N seconds; 0 = off"),
        "nan_policy": ("stop", "stop | skip: what a NaN or infinite loss does"),
        "loss_spike_factor": (3.0, "alert when the loss jumps above N x its recent average; 0 = off"),
    },
}


# Keys that only some tasks read: the start form hides the others and `--init` leaves them out.
_CLASSIFIERS = ("sequence-classification", "token-classification")
_LANGUAGE_MODELS = ("masked-lm", "causal-lm")
TASK_KEYS: dict[str, tuple[str, ...]] = {
    "model.num_labels": _CLASSIFIERS,
    "model.id2label": _CLASSIFIERS,
    "data.text_column": (*_CLASSIFIERS, *_LANGUAGE_MODELS),
    "data.text_pair_column": ("sequence-classification",),
    "data.label_column": _CLASSIFIERS,
    "data.label_all_tokens": ("token-classification",),
    "data.conll_tag_index": ("token-classification",),
    **{
        f"data.{key}": ("question-answering",)
        for key in (
            "question_column",
            "context_column",
            "answers_column",
            "id_column",
            "doc_stride",
            "max_answer_length",
            "n_best_size",
            "version_2_with_negative",
            "null_score_diff_threshold",
        )
    },
    "data.block_size": _LANGUAGE_MODELS,
    "data.text_file_mode": _LANGUAGE_MODELS,
    "data.mlm_probability": ("masked-lm",),
    "data.whole_word_mask": ("masked-lm",),
    **{
        f"data.{key}": ("seq2seq",)
        for key in (
            "source_column",
            "target_column",
            "source_lang",
            "target_lang",
            "source_prefix",
            "max_target_length",
        )
    },
    "training.generation_num_beams": ("seq2seq",),
    "training.generation_max_length": ("seq2seq",),
}


def key_applies(dotted: str, head: str) -> bool:
    """Whether a run of task `head` reads the spec key `dotted` (keys of every task: always)."""
    tasks = TASK_KEYS.get(dotted)
    return tasks is None or head in tasks


def for_task(spec: dict, head: str) -> dict:
    """The spec without the keys other tasks read (what `--init` writes)."""
    return {
        section: {key: value for key, value in values.items() if key_applies(f"{section}.{key}", head)}
        if isinstance(values, dict)
        else values
        for section, values in spec.items()
    }


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class SpecError(WorkbenchError):
    """A spec that cannot run; `.errors` lists every problem by field name."""

    def __init__(self, errors: list[FieldError], source: str | None = None) -> None:
        self.errors = list(errors)
        where = f" in {source}" if source else ""
        lines = "\n".join(f"  {error}" for error in self.errors)
        super().__init__(f"The run spec{where} has {len(self.errors)} problem(s):\n{lines}")


def default_spec(model: str | None = None, data: str | Path | None = None, head: str | None = None) -> dict:
    spec = {
        section: {key: copy.deepcopy(value) for key, (value, _) in keys.items()} for section, keys in SCHEMA.items()
    }
    if model:
        spec["model"]["name_or_path"] = str(model)
    if data:
        spec["data"]["train_file"] = str(data)
    if head and head != spec["model"]["head"]:
        spec["model"]["head"] = head
        spec["training"]["metrics"] = task_default_metrics(head)
        if head == "question-answering":
            spec["data"]["max_length"] = 384  # the course's window: a question and most of a paragraph
    return spec


def complete_spec(spec: dict) -> dict:
    """The spec with every missing key filled from the defaults (unknown keys kept for validation)."""
    full = default_spec()
    for section, values in spec.items():
        if isinstance(values, dict) and section in full:
            full[section].update(copy.deepcopy(values))
        else:
            full[section] = copy.deepcopy(values)
    given_training = spec.get("training") if isinstance(spec.get("training"), dict) else {}
    if "metrics" not in given_training:
        full["training"]["metrics"] = task_default_metrics(full["model"].get("head"), full["data"])
    return full


def sequence_length(spec: dict) -> int | None:
    """The longest sequence the model sees: the block for language models, else data.max_length."""
    data = spec.get("data") or {}
    block = data.get("block_size") or 0
    if (spec.get("model") or {}).get("head") in ("masked-lm", "causal-lm") and isinstance(block, int) and block > 0:
        return block
    length = data.get("max_length")
    return length if isinstance(length, int) else None


def task_default_metrics(head, data: dict | None = None) -> list[str]:
    """The metrics a run of this task computes when the spec names none (seq2seq: BLEU/chrF for
    translation data, ROUGE for the rest, told apart by `data`)."""
    from workbench.core.tasks import TASK_MODULES, get_task

    if head not in TASK_MODULES:
        return list(SCHEMA["training"]["metrics"][0])
    try:
        task = get_task(head)
    except WorkbenchError:
        return []
    if data is not None and hasattr(task, "default_metrics_for"):
        return list(task.default_metrics_for(data))
    return list(task.default_metrics)


def task_metric_names(head) -> tuple[str, ...]:
    from workbench.core.tasks import TASK_MODULES, get_task

    if head not in TASK_MODULES:
        return METRICS
    try:
        return tuple(get_task(head).metric_names)
    except WorkbenchError:
        return ALL_METRICS


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "an integer", float: "a number", str: "text", list: "a list", dict: "a table"}[
        type(value)
    ]


def _type_ok(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool):
        return isinstance(value, bool)
    if isinstance(expected, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(expected, int):
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, type(expected))


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def validate_spec(spec: dict, *, check_files: bool = True, base_dir: Path | None = None) -> list[FieldError]:
    """Every problem of the spec, by dotted field name. Missing keys take their defaults."""
    errors: list[FieldError] = []

    def error(field: str, message: str) -> None:
        errors.append(FieldError(field, message))

    if not isinstance(spec, dict):
        return [FieldError("spec", "must be a table of sections")]
    for section, values in spec.items():
        if section not in SCHEMA:
            error(section, f"unknown section{did_you_mean(section, SCHEMA)} (sections: {', '.join(SCHEMA)})")
            continue
        if not isinstance(values, dict):
            error(section, "must be a table, e.g. [" + section + "]")
            continue
        for key, value in values.items():
            field = f"{section}.{key}"
            if key not in SCHEMA[section]:
                error(field, f"unknown key{did_you_mean(key, SCHEMA[section])}")
                continue
            expected = SCHEMA[section][key][0]
            if not _type_ok(expected, value):
                error(field, f"must be {_type_name(expected)}, not {value!r}")
            elif isinstance(value, float) and not math.isfinite(value):
                error(field, f"must be a finite number, not {value}")
    if errors:
        type_errors = {e.field for e in errors}
    else:
        type_errors = set()
    full = complete_spec({k: v for k, v in spec.items() if isinstance(v, dict)})

    def value(field: str) -> Any:
        section, key = field.split(".")
        return None if field in type_errors else full[section][key]

    def check(field: str, ok, message: str) -> None:
        current = value(field)
        if current is not None and not ok(current):
            error(field, message)

    def choice(field: str, choices) -> None:
        current = value(field)
        if current is not None and current not in choices:
            hint = did_you_mean(str(current), choices)
            error(field, f"{current!r} is not one of {', '.join(map(str, choices))}{hint}")

    # model
    check("model.name_or_path", lambda v: v.strip() != "", 'is empty; give a local folder, a Hub id or "embedded"')
    name = value("model.name_or_path")
    if check_files and name and name != EMBEDDED_MODEL:
        path = _resolve(name, base_dir)
        looks_local = name.startswith((".", "/", "~")) or path.exists()
        if looks_local and not path.is_dir():
            error("model.name_or_path", f"no model folder at {path}")
        elif not looks_local and not re.fullmatch(r"[\w.-]+(/[\w.-]+)?", name):
            error("model.name_or_path", f"{name!r} is neither a folder nor a Hub id like 'org/model'")
    if check_files and name and "model.name_or_path" not in {e.field for e in errors}:
        from workbench.training.preflight import model_problems

        from_config = value("model.from_config") is True
        for field, message in model_problems(name, sequence_length(full), base_dir, from_config=from_config):
            error(field, message)
    choice("model.head", HEADS)
    if value("model.head") in HEADS:
        from workbench.core.tasks import get_task

        try:
            get_task(value("model.head"))
        except WorkbenchError as problem:
            error("model.head", problem.message)
    check("model.num_labels", lambda v: v >= 0, "must be 0 (infer) or more")
    id2label = value("model.id2label")
    if id2label:
        if not all(str(k).isdigit() and isinstance(v, str) for k, v in id2label.items()):
            error("model.id2label", "keys must be label ids (0, 1, ...) and values label names")
        elif value("model.num_labels") and len(id2label) != value("model.num_labels"):
            error("model.id2label", f"has {len(id2label)} labels but model.num_labels is {value('model.num_labels')}")
    choice("model.attn_implementation", ("sdpa", "eager", "flash_attention_2"))
    choice("model.compile_mode", COMPILE_MODES)
    if isinstance(value("model.lora"), dict):
        from workbench.core.tasks.lora import validate_lora

        for field, message in validate_lora(value("model.lora"), from_config=value("model.from_config") is True):
            error(field, message)

    # data
    head = value("model.head")
    train_file, dataset = value("data.train_file"), value("data.dataset")
    if train_file == "" and dataset == "":
        error("data.train_file", "is empty; give a data file (or data.dataset for a Hub dataset)")
    elif dataset:  # the Hub dataset is what loads: files beside it would be ignored without a word
        for field in ("data.train_file", "data.validation_file"):
            if value(field):
                error(field, f"is set as well as data.dataset ({dataset}); keep one: the files or the Hub dataset")
    for field in ("data.train_file", "data.validation_file"):
        current = value(field)
        if not current:
            continue
        suffix = Path(current).suffix.lower()
        where = _resolve(current, base_dir)
        if check_files and where.is_dir():  # not "unsupported file type '(none)'"
            error(field, f"{where} is a folder; give one data file in it")
        elif suffix not in DATA_EXTENSIONS and head != "seq2seq":  # seq2seq: parallel files train.en + train.de
            error(field, f"unsupported file type {suffix or '(none)'!r}; use {', '.join(DATA_EXTENSIONS)}")
        elif check_files and not where.is_file():
            error(field, f"not a regular file: {where}" if where.exists() else f"file not found: {where}")
    if head in ("sequence-classification", "token-classification"):
        check("data.text_column", lambda v: v.strip() != "", "is empty; name the column with the input text")
        check("data.label_column", lambda v: v.strip() != "", "is empty; name the label column")
    check("data.max_length", lambda v: 1 <= v <= 131072, "must be between 1 and 131072")
    check("data.max_train_samples", lambda v: v >= 0, "must be 0 (all) or more")
    check("data.max_eval_samples", lambda v: v >= 0, "must be 0 (all) or more")
    check(
        "data.pad_to_buckets",
        lambda v: (
            all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in v)
            and all(a < b for a, b in zip(v, v[1:], strict=False))
        ),
        "must be increasing whole numbers of tokens above 0, e.g. [32, 64, 96, 128]",
    )

    # training
    check("training.learning_rate", lambda v: 0 < v < 1, "must be above 0 and below 1")
    max_steps = value("training.max_steps")
    check("training.max_steps", lambda v: v == -1 or v > 0, "must be -1 (use epochs) or more than 0")
    if max_steps is None or max_steps <= 0:
        check("training.num_train_epochs", lambda v: v > 0, "must be more than 0 (or set training.max_steps)")
    for field in (
        "per_device_train_batch_size",
        "per_device_eval_batch_size",
        "gradient_accumulation_steps",
        "logging_steps",
        "num_processes",
    ):
        check(f"training.{field}", lambda v: v >= 1, "must be 1 or more")
    check("training.warmup_ratio", lambda v: 0 <= v < 1, "must be at least 0 and below 1")
    for field in (
        "weight_decay",
        "max_grad_norm",
        "eval_steps",
        "save_steps",
        "save_total_limit",
        "dataloader_num_workers",
        "pad_to_multiple_of",
    ):
        check(f"training.{field}", lambda v: v >= 0, "must be 0 or more")
    check("training.adam_beta1", lambda v: 0 <= v < 1, "must be at least 0 and below 1")
    check("training.adam_beta2", lambda v: 0 <= v < 1, "must be at least 0 and below 1")
    check("training.adam_epsilon", lambda v: v > 0, "must be more than 0")
    choice("training.lr_scheduler_type", SCHEDULERS)
    choice("training.mixed_precision", MIXED_PRECISION)
    choice("training.distributed", DISTRIBUTED)
    _check_machines(value, error)
    config_file = spec.get("training", {}).get("accelerate_config")
    if isinstance(config_file, str) and config_file and not Path(config_file).expanduser().is_file():
        error("training.accelerate_config", f"{config_file} is not a file")
    choice("training.eval_strategy", EVAL_STRATEGIES)
    if value("training.eval_strategy") == "steps" and value("training.eval_steps") == 0:
        error("training.eval_steps", 'must be more than 0 when training.eval_strategy is "steps"')
    metrics = value("training.metrics")
    if metrics is not None:
        known = task_metric_names(head)
        for index, metric in enumerate(metrics):
            if metric not in known:
                error(
                    f"training.metrics[{index}]",
                    f"unknown metric {metric!r} for {head}{did_you_mean(str(metric), known)}"
                    f" (known: {', '.join(known)})",
                )
    best = value("training.metric_for_best_model")
    if best and metrics is not None and best not in metrics and best not in ("loss", "eval_loss"):
        error("training.metric_for_best_model", f"{best!r} is not in training.metrics")
    report_to = value("training.report_to")
    if report_to is not None:
        from workbench.training.trackers import parse_report_to

        try:
            parse_report_to(report_to)
        except ValueError as problem:
            error("training.report_to", str(problem))
    if value("training.mixed_precision") in ("fp16", "bf16") and value("training.use_cpu") is True:
        if value("training.mixed_precision") == "fp16":
            error("training.mixed_precision", "fp16 needs a GPU; use bf16 or no with training.use_cpu")

    # monitor
    check("monitor.system_sample_interval_s", lambda v: v == 0 or v >= 0.1, "must be 0 (off) or at least 0.1")
    choice("monitor.nan_policy", NAN_POLICIES)
    check("monitor.loss_spike_factor", lambda v: v == 0 or v > 1, "must be 0 (off) or more than 1")
    return errors


def _check_machines(value, error) -> None:
    """Several machines: a rank in range, a port in 1-65535 (0 = 29500), the main address given."""
    machines, rank = value("training.num_machines"), value("training.machine_rank")
    if machines is not None and machines < 1:
        error("training.num_machines", "must be 1 or more")
    elif machines is not None and rank is not None and not 0 <= rank < machines:
        error("training.machine_rank", f"must be 0 to {machines - 1} (training.num_machines is {machines})")
    port = value("training.main_process_port")
    if port is not None and not 0 <= port <= 65535:
        error("training.main_process_port", "must be a port from 1 to 65535 (0 = Accelerate's 29500)")
    choice_value = value("training.rdzv_backend")
    if choice_value is not None and choice_value not in RDZV_BACKENDS:
        error("training.rdzv_backend", f"{choice_value!r} is not one of {', '.join(RDZV_BACKENDS)}")
    if machines is not None and machines > 1 and not str(value("training.main_process_ip") or "").strip():
        error(
            "training.main_process_ip",
            f"is empty; give the main machine's IP or host name (training.num_machines is {machines})",
        )


def _resolve(path: str, base_dir: Path | None) -> Path:
    candidate = Path(path).expanduser()
    if not candidate.is_absolute() and base_dir is not None:
        candidate = base_dir / candidate
    return candidate


def resolve_paths(spec: dict, base_dir: Path) -> dict:
    """Make the spec's relative file paths absolute (relative to the spec file's folder)."""
    spec = copy.deepcopy(spec)
    data = spec.get("data", {})
    for key in ("train_file", "validation_file"):
        if data.get(key):
            data[key] = str(_resolve(data[key], base_dir).resolve())
    model = spec.get("model", {})
    name = model.get("name_or_path", "")
    if name and name != EMBEDDED_MODEL and (name.startswith((".", "~")) or (base_dir / name).is_dir()):
        model["name_or_path"] = str(_resolve(name, base_dir).resolve())
    return spec


def load_spec(path: str | Path) -> dict:
    """Read a TOML spec; relative paths in it are taken relative to the file's folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkbenchError(f"No spec file at {path}", hint="Write one with `workbench train --init`.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise WorkbenchError(f"Cannot read the spec {path}: {error}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError([FieldError("toml", str(error))], source=str(path)) from None
    return resolve_paths(raw, path.resolve().parent)


def dump_spec(spec: dict, *, comments: bool = False) -> str:
    """TOML text; with `comments`, each key is preceded by what it means (for `--init`)."""
    if not comments:
        return tomli_w.dumps(spec)
    lines = [
        "# A workbench run spec. Keys follow transformers' TrainingArguments names.",
        "# Start it with: workbench train THIS_FILE   (override any key: --set training.learning_rate=3e-5)",
        "",
    ]
    for section, values in spec.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            comment = SCHEMA.get(section, {}).get(key, (None, ""))[1]
            if comment:
                lines.append(f"# {comment}")
            lines.append(_toml_line(key, value))
        lines.append("")
    return "\n".join(lines)


def _toml_line(key: str, value: Any) -> str:
    """`key = value` on one line; tables become inline tables."""
    if isinstance(value, dict):
        items = ", ".join(_toml_line(str(k), v) for k, v in value.items())
        return f"{_toml_key(key)} = {{{items}}}" if items else f"{_toml_key(key)} = {{}}"
    return tomli_w.dumps({key: value}).strip()


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def parse_override(text: str) -> tuple[str, Any]:
    """`training.learning_rate=3e-5` -> ("training.learning_rate", 3e-05). Values are TOML; bare text is a string."""
    if "=" not in text:
        raise SpecError([FieldError(text, "an override is KEY=VALUE, e.g. training.learning_rate=3e-5")])
    key, raw = text.split("=", 1)
    key, raw = key.strip(), raw.strip()
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def apply_overrides(spec: dict, overrides: list[str]) -> dict:
    """Apply `--set` overrides; a key without a section is looked up across the sections."""
    spec = copy.deepcopy(spec)
    errors = []
    for text in overrides:
        try:
            key, value = parse_override(text)
        except SpecError as error:
            errors.extend(error.errors)
            continue
        parts = key.split(".")
        if len(parts) == 1:
            owners = [section for section, keys in SCHEMA.items() if key in keys]
            if len(owners) != 1:
                known = [f"{s}.{k}" for s, keys in SCHEMA.items() for k in keys]
                errors.append(
                    FieldError(
                        key, "unknown key" + did_you_mean(key, [k.split(".")[1] for k in known]) + " (use section.key)"
                    )
                )
                continue
            parts = [owners[0], key]
        if len(parts) != 2:
            errors.append(FieldError(key, "use section.key, e.g. training.seed"))
            continue
        section, name = parts
        if section not in SCHEMA:
            errors.append(FieldError(key, f"unknown section {section!r}{did_you_mean(section, SCHEMA)}"))
            continue
        expected = SCHEMA[section].get(name, (None,))[0]
        if isinstance(expected, str) and not isinstance(value, str):
            value = raw_text(text)
        elif isinstance(expected, list) and isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        spec.setdefault(section, {})[name] = value
    if errors:
        raise SpecError(errors, source="--set")
    return spec


def raw_text(override: str) -> str:
    return override.split("=", 1)[1].strip()
