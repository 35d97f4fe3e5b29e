"""`workbench eval`'s engine: evaluate a run's final model, a saved model or an adapter on a file.

The same pipeline as training, so the numbers agree with the run's evaluation events: the task's
`load_raw` reads the file as the validation split, `prepare` tokenizes it with the spec's data
settings, the model is loaded with `task.load_model`, the batches go through the task's collator and
`Evaluator` in order, and `eval_loss` is the mean of the batches' losses (as `training/loop.py`).

What is evaluated (`resolve_source`):
- a run (its folder, id, a unique part of it, or `latest`): its `final/` model, with the run's task,
  data settings (columns, max_length, …), metrics and evaluation batch size;
- a saved model folder (`config.json`): the task from `config.json`'s `architectures` (or `task=`),
  the columns guessed from the file as `workbench train --init` guesses them;
- an adapter folder (`adapter_config.json`, peft): its base model with the task's head, the adapter on top.

Labels are the MODEL's (`config.json` `id2label`): rows whose label the model does not know are left
out, and listed with their counts in `EvalReport.dropped`; no row left is an error.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.runs.folder import FINAL_DIR, PREDICTIONS_DIR, SPEC_FILE, is_run_folder, resolve_run

CONFIG_FILE = "config.json"
ADAPTER_CONFIG_FILE = "adapter_config.json"
HEAD_CONFIG_FILE = "head_config.json"  # a LoRA run's trained head (class, labels) next to its adapter
DEFAULT_OUTPUT = "eval-predictions.parquet"
# How many rows of the evaluated file stand in for the training split that `prepare` expects.
STAND_IN_TRAIN_ROWS = 8

# The head a model class name ends with -> the task (`model.head`) it serves.
ARCHITECTURE_TASKS = (
    ("ForSequenceClassification", "sequence-classification"),
    ("ForTokenClassification", "token-classification"),
    ("ForQuestionAnswering", "question-answering"),
    ("ForMaskedLM", "masked-lm"),
    ("ForPreTraining", "masked-lm"),
    ("ForCausalLM", "causal-lm"),
    ("LMHeadModel", "causal-lm"),
    ("ForConditionalGeneration", "seq2seq"),
    ("MTModel", "seq2seq"),
    ("ForSeq2SeqLM", "seq2seq"),
)
# peft's `task_type` -> the task.
ADAPTER_TASKS = {
    "SEQ_CLS": "sequence-classification",
    "TOKEN_CLS": "token-classification",
    "QUESTION_ANS": "question-answering",
    "CAUSAL_LM": "causal-lm",
    "SEQ_2_SEQ_LM": "seq2seq",
}
LABELLED_TASKS = ("sequence-classification", "token-classification")
# data.* keys a file must fill for the task to be evaluated (the gold labels included)
REQUIRED_COLUMNS = {
    "sequence-classification": ("text_column", "label_column"),
    "token-classification": ("text_column", "label_column"),
}


@dataclass
class Source:
    """What `model_or_run` named, resolved."""

    kind: str  # "run", "model" or "adapter"
    name: str  # as the user gave it
    model_path: Path  # the folder loaded: final/, the model folder or the adapter folder
    spec: dict  # a complete spec: the run's, or the defaults for a model
    run_dir: Path | None = None
    base_model: str | None = None  # an adapter's base model
    config: dict = field(default_factory=dict)  # the model's config.json (the base's for an adapter)
    task: str | None = None  # the task the model's head serves, when known

    @property
    def id2label(self) -> dict[int, str]:
        return {int(key): str(value) for key, value in (self.config.get("id2label") or {}).items()}


@dataclass
class EvalReport:
    """One evaluation. Unpacks as `(metrics, records)`."""

    metrics: dict[str, float]  # eval_loss first, then the task's metrics (as the Evaluation event)
    records: dict[str, list]  # the predictions (`id` is the row in the evaluated split)
    task: str
    source: Source
    data_file: str
    examples: int  # rows evaluated
    dropped: dict[str, int] = field(default_factory=dict)  # label the model does not know -> rows with it
    dropped_rows: int = 0  # rows left out (a sentence with two unknown tags counts once)
    notes: list[str] = field(default_factory=list)  # the task's warnings (truncation, …)
    predictions_path: Path | None = None
    seconds: float = 0.0  # loading, preparing and evaluating
    timings: dict[str, float] = field(default_factory=dict)  # data_s (read + tokenize), model_s, evaluate_s

    def __iter__(self):
        return iter((self.metrics, self.records))


# -- what is evaluated ---------------------------------------------------------------------------


def read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WorkbenchError(f"{path}: cannot read it ({error})") from None
    if not isinstance(value, dict):
        raise WorkbenchError(f"{path}: not a JSON object")
    return value


def architecture_task(config: dict) -> tuple[str | None, str]:
    """(task, class name) from config.json's first architecture; task None for a model without a head."""
    architectures = config.get("architectures") or []
    name = str(architectures[0]) if architectures else ""
    for suffix, task in ARCHITECTURE_TASKS:
        if name.endswith(suffix):
            return task, name
    return None, name


def check_head(config: dict, asked: str | None, where: Path) -> str:
    """The task to evaluate: the one asked for, which the model's head must serve, else the head's."""
    from workbench.core.tasks import TASK_NAMES

    if asked is not None and asked not in TASK_NAMES:
        raise WorkbenchError(f"Unknown task {asked!r}.", hint=f"Tasks: {', '.join(TASK_NAMES)}.")
    head, class_name = architecture_task(config)
    if head is None:
        what = f"a {class_name}" if class_name else "a model whose config.json names no architecture"
        if asked is not None and not class_name:
            return asked  # nothing says otherwise; the weights decide
        raise WorkbenchError(
            f"{where} is {what}: it has no head for {asked or 'any task workbench evaluates'}",
            hint="Evaluate a model trained for the task (a run, or its final/ folder)"
            + ("" if class_name else ", or name the task with --task")
            + ".",
        )
    if asked is not None and asked != head:
        raise WorkbenchError(
            f"{where} is a {class_name}: it has no head for {asked}",
            hint=f"Evaluate it as {head} (--task {head}), or train a {asked} model first.",
        )
    return head


def resolve_source(model_or_run: str | Path, task: str | None = None) -> Source:
    """A run, a model folder, an adapter folder or `embedded`, as `Source`; a clear error otherwise."""
    from workbench.core.embedded import EMBEDDED_MODEL, embedded_model_path
    from workbench.core.tasks import TASK_NAMES
    from workbench.training.spec import complete_spec, default_spec, load_spec

    if task is not None and task not in TASK_NAMES:
        raise WorkbenchError(f"Unknown task {task!r}.", hint=f"Tasks: {', '.join(TASK_NAMES)}.")
    text = str(model_or_run).strip()
    path = Path(text).expanduser() if text else Path()
    if text == EMBEDDED_MODEL:
        path = embedded_model_path()
    if text and path.is_dir() and not is_run_folder(path):
        return _folder_source(text, path.resolve(), task, default_spec(model=str(path.resolve())))
    try:
        run_dir = resolve_run(text)  # a run folder, id, part of one or `latest`
    except WorkbenchError as error:
        if text and not path.exists() and "/" not in text and not text.startswith((".", "~")):
            raise WorkbenchError(
                f"{error.message.rstrip('.')}, and no model folder {text!r} here",
                hint="Give a run id (`workbench runs`), a run folder, a saved model folder (config.json) or an"
                " adapter folder (adapter_config.json).",
            ) from None
        raise
    spec = complete_spec(load_spec(run_dir / SPEC_FILE))
    final = run_dir / FINAL_DIR
    if not final.is_dir():
        raise WorkbenchError(
            f"run {run_dir.name} has no final model ({final} does not exist)",
            hint="A run saves final/ when it finishes; wait for it, or resume it with"
            f" `workbench resume {run_dir.name}`.",
        )
    run_task = spec["model"].get("head") or "sequence-classification"
    if task is not None and task != run_task:
        raise WorkbenchError(
            f"run {run_dir.name} trained a {run_task} head: it has no head for {task}",
            hint=f"Leave out --task (it is {run_task}).",
        )
    source = _folder_source(text, final, run_task, spec)
    source.kind = "adapter" if source.kind == "adapter" else "run"
    source.run_dir = run_dir
    return source


def _folder_source(name: str, folder: Path, task: str | None, spec: dict) -> Source:
    if (folder / ADAPTER_CONFIG_FILE).is_file():
        adapter = read_json(folder / ADAPTER_CONFIG_FILE)
        base = str(adapter.get("base_model_name_or_path") or "")
        if not base:
            raise WorkbenchError(f"{folder / ADAPTER_CONFIG_FILE}: no base_model_name_or_path")
        from workbench.training.configure import resolve_model

        base_path = Path(resolve_model(base)).expanduser()
        config = {}
        for candidate in (folder / HEAD_CONFIG_FILE, folder / CONFIG_FILE, base_path / CONFIG_FILE):
            if candidate.is_file():  # the trained head's labels first, else the base's
                config = read_json(candidate)
                break
        adapter_task = ADAPTER_TASKS.get(str(adapter.get("task_type") or ""))
        chosen = task or adapter_task
        if chosen is None:
            raise WorkbenchError(
                f"{folder}: an adapter of task type {adapter.get('task_type')!r}; say which task with --task"
            )
        return Source("adapter", name, folder, spec, base_model=str(base_path), config=config, task=chosen)
    if not (folder / CONFIG_FILE).is_file():
        raise WorkbenchError(
            f"{folder} is not a model folder (no {CONFIG_FILE} or {ADAPTER_CONFIG_FILE})",
            hint="Give a run id, a run folder, a saved model folder or an adapter folder.",
        )
    config = read_json(folder / CONFIG_FILE)
    return Source("model", name, folder, spec, config=config, task=check_head(config, task, folder))


# -- the data ---------------------------------------------------------------------------------------


def load_eval_data(task, data: dict, data_file: str, split: str | None):
    """The raw DatasetDict with `validation` = the file (or the folder's split), read the way the task
    reads training files, and `train` = its first rows (what `prepare` expects to exist)."""
    import datasets

    path = Path(data_file).expanduser()
    if not path.exists():
        raise WorkbenchError(f"{data_file}: no such file or folder", hint="Check the path; ~ is expanded.")
    if path.is_dir() or split is not None:
        from workbench.core.data.loading import open_dataset

        opened = open_dataset(path)
        names = list(opened.splits)
        chosen = split or next((name for name in ("validation", "test", "dev") if name in names), names[0])
        if chosen not in names:
            raise WorkbenchError(f"{data_file} has no split {chosen!r}", hint=f"Splits: {', '.join(names)}.")
        validation = opened.splits[chosen]
    else:
        from workbench.core.tasks.base import Task

        # A task with its own reader (parallel text, CoNLL, raw text) may need the train file to find
        # the format; the shared reader opens the file once, as the validation split.
        train_file = str(path) if type(task).load_raw is not Task.load_raw else ""
        try:
            loaded = task.load_raw({**data, "train_file": train_file, "validation_file": str(path), "dataset": ""})
        except WorkbenchError as error:  # the spec keys mean nothing here: the file is --data
            message = error.message.removeprefix("data.validation_file: ").removeprefix("data.train_file: ")
            raise WorkbenchError(message, hint=error.hint) from None
        validation = loaded["validation"] if "validation" in loaded else loaded["train"]
    if len(validation) == 0:
        raise WorkbenchError(f"{data_file}: no rows to evaluate")
    # validation first: a task's column check then names the evaluated file's split, not the stand-in
    return datasets.DatasetDict(
        {"validation": validation, "train": validation.select(range(min(STAND_IN_TRAIN_ROWS, len(validation))))}
    )


def _label_names(dataset, column: str) -> tuple[Any, list[str] | None]:
    """The dataset with ClassLabel ids turned back into their names, and those names (None: plain values)."""
    import datasets

    feature = dataset.features[column]
    inner = feature.feature if isinstance(feature, (datasets.Sequence, datasets.List)) else feature
    if not isinstance(inner, datasets.ClassLabel):
        return dataset, None
    names = list(inner.names)
    nested = inner is not feature

    def to_names(batch):
        values = batch[column]
        return {column: [[names[v] for v in row] for row in values] if nested else [names[v] for v in values]}

    target = datasets.Value("string")
    features = dataset.features.copy()
    features[column] = datasets.List(target) if nested else target
    return dataset.map(to_names, batched=True, features=features), names


def drop_unknown_labels(raw, column: str, id2label: dict[int, str]):
    """Rows whose label (or any tag, for token labels) the model does not know, left out.

    Returns (raw, kept row indices or None when all are kept, {label: rows}). String labels are known
    when they are one of the model's class names; integer labels when 0 <= id < the classes."""
    validation, _ = _label_names(raw["validation"], column)
    names = set(id2label.values())
    count = len(id2label)

    def known(value) -> bool:
        if isinstance(value, bool) or value is None:
            return False
        if isinstance(value, int):
            return 0 <= value < count
        return str(value) in names

    unknown: Counter = Counter()
    keep = []
    for index, value in enumerate(validation[column]):
        values = value if isinstance(value, list) else [value]
        bad = [item for item in values if not known(item)]
        if bad:
            unknown.update(str(item) for item in set(map(str, bad)))
        else:
            keep.append(index)
    raw["validation"] = validation
    raw["train"], _ = _label_names(raw["train"], column)
    if not unknown:
        return raw, None, {}
    if not keep:
        shown = ", ".join(repr(name) for name, _ in unknown.most_common(5))
        raise WorkbenchError(
            f"no row has a label the model knows: {shown} are not among its {count} label(s)",
            hint=f"The model's labels: {', '.join(sorted(names)[:10])}.",
        )
    raw["validation"] = validation.select(keep)
    raw["train"] = raw["validation"].select(range(min(STAND_IN_TRAIN_ROWS, len(keep))))
    return raw, keep, dict(unknown.most_common())


def dropped_text(rows: int, dropped: dict[str, int]) -> str:
    """`3 row(s) with labels the model does not know: 'neutral' (2), 'meh' (1)` (rows per label)."""
    listed = ", ".join(f"{name!r} ({count})" for name, count in list(dropped.items())[:10])
    more = f" and {len(dropped) - 10} more" if len(dropped) > 10 else ""
    return f"{rows} row(s) with labels the model does not know: {listed}{more}"


def eval_spec(source: Source, task_name: str, raw, batch_size: int | None, max_length: int | None) -> dict:
    """The spec the pipeline reads: the run's (files and row limits cleared), or the defaults with
    the columns guessed from the file; the model's labels; the evaluation batch size."""
    import copy

    from workbench.core.tasks import get_task
    from workbench.training.preflight import position_limit, read_json
    from workbench.training.spec import task_default_metrics

    spec = copy.deepcopy(source.spec)
    data, model, training = spec["data"], spec["model"], spec["training"]
    if source.run_dir is None:  # a model or adapter folder: the columns guessed from the file
        model["head"] = task_name
        training["metrics"] = task_default_metrics(task_name)
        guessed = get_task(task_name).guess_data({"train": raw["validation"]})
        missing = [key for key in REQUIRED_COLUMNS.get(task_name, ()) if key in guessed and not guessed[key]]
        if missing:
            columns = ", ".join(raw["validation"].column_names)
            raise WorkbenchError(
                f"{source.model_path} is a {task_name} model, and no column of the file can be its"
                f" {' or '.join(key.removesuffix('_column') for key in missing)}",
                hint=f"Columns: {columns}. It needs "
                + {
                    "sequence-classification": "a text column and a label column (class names or ids).",
                    "token-classification": "a column of token lists and one of tag lists (or a CoNLL file).",
                }[task_name],
            )
        data.update(guessed)
        limit = position_limit(source.config, read_json(source.model_path / "tokenizer_config.json"))
        if limit is not None and max_length is None:
            data["max_length"] = min(data["max_length"], limit)
    model["head"] = task_name
    model["from_config"] = False
    data.update(max_train_samples=0, max_eval_samples=0, dataset="")
    if max_length is not None:
        data["max_length"] = max_length
    if batch_size is not None:
        training["per_device_eval_batch_size"] = batch_size
    if task_name in LABELLED_TASKS:
        id2label = source.id2label
        problem = source.config.get("problem_type")
        if problem == "regression" or (source.config.get("num_labels") == 1 and not id2label):
            model.update(num_labels=1, id2label={})
        elif id2label:
            model.update(num_labels=len(id2label), id2label={str(k): v for k, v in id2label.items()})
    return spec


def check_head_size(source: Source, task_name: str, labels, say: Callable[[str], None]) -> None:
    """The file's classes must fit the model's head: a model whose config names no labels has
    `num_labels` outputs (2 by default), and its classes are the file's, in sorted order."""
    if task_name not in LABELLED_TASKS or labels.regression or source.id2label:
        return
    outputs = int(source.config.get("num_labels") or 2)
    if labels.num_labels != outputs:
        raise WorkbenchError(
            f"the file has {labels.num_labels} label(s) but {source.model_path}'s head has {outputs} output(s)",
            hint="Evaluate a model trained on these labels.",
        )
    names = ", ".join(f"{name} = {index}" for index, name in sorted(labels.id2label.items())[:10])
    say(f"The model's config names no labels; the file's are taken in sorted order: {names}")


# -- the model ---------------------------------------------------------------------------------------


def load_tokenizer(source: Source):
    from transformers import AutoTokenizer

    candidates = [source.model_path] + ([Path(source.base_model)] if source.base_model else [])
    for folder in candidates:
        if (folder / "tokenizer_config.json").is_file() or (folder / "tokenizer.json").is_file():
            return AutoTokenizer.from_pretrained(str(folder))
    raise WorkbenchError(
        f"{source.model_path} has no tokenizer (no tokenizer.json or tokenizer_config.json)",
        hint="Save the tokenizer next to the model (tokenizer.save_pretrained(folder)).",
    )


class FingerprintedTokenizer:
    """The tokenizer as a task's `prepare` sees it: every call, attribute and assignment goes to the
    real one, but datasets' fingerprinting of the `map` function hashes a digest of the tokenizer's
    files (milliseconds) instead of pickling its whole vocabulary: 0.2 s for the embedded 30,522-token
    WordPiece on an H200 host, paid once per split (the evaluated file and its stand-in train rows).

    The digest covers the class, the files the tokenizer was read from and its init arguments, so a
    cached `map` result is reused only for the same tokenizer."""

    def __init__(self, tokenizer, identity: str) -> None:
        object.__setattr__(self, "_wrapped", tokenizer)
        object.__setattr__(self, "_identity", identity)

    def __call__(self, *args, **kwargs):
        return self._wrapped(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._wrapped, name)

    def __setattr__(self, name: str, value) -> None:
        setattr(self._wrapped, name, value)

    def __len__(self) -> int:
        return len(self._wrapped)

    def __reduce__(self):
        return (str, (self._identity,))


# Tasks whose `prepare` builds collators or other library objects around the tokenizer get the real one.
PLAIN_TOKENIZER_TASKS = ("masked-lm", "causal-lm")


def tokenizer_for_prepare(tokenizer, task_name: str):
    """`FingerprintedTokenizer` around a tokenizer read from a folder, else the tokenizer itself."""
    import hashlib

    folder = Path(str(getattr(tokenizer, "name_or_path", "") or ""))
    if task_name in PLAIN_TOKENIZER_TASKS or not folder.is_dir():
        return tokenizer
    digest = hashlib.sha256(f"{type(tokenizer).__module__}.{type(tokenizer).__qualname__}".encode())
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix not in (".safetensors", ".bin", ".pt", ".h5", ".msgpack", ".onnx"):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    digest.update(repr(sorted((str(k), repr(v)) for k, v in tokenizer.init_kwargs.items())).encode())
    return FingerprintedTokenizer(tokenizer, f"tokenizer:{digest.hexdigest()}")


def load_model(source: Source, task, spec: dict, labels):
    """The model with the task's head; for an adapter, the base with the adapter on top (peft)."""
    from workbench.training.preflight import model_problems

    if source.kind == "adapter":
        from peft import PeftModel

        base_spec = {**spec, "model": {**spec["model"], "name_or_path": source.base_model}}
        problems = model_problems(source.base_model, None)
        if problems:
            raise WorkbenchError(f"the adapter's base model: {problems[0][1]}")
        base = task.load_model(base_spec, source.base_model, labels)
        try:
            with warnings.catch_warnings():
                # transformers 5 deprecates the attribute peft reads; nothing for users to act on.
                warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
                return PeftModel.from_pretrained(base, str(source.model_path))
        except (OSError, ValueError, RuntimeError, KeyError) as error:
            raise WorkbenchError(f"{source.model_path}: cannot load the adapter ({error})") from None
    problems = model_problems(str(source.model_path), spec["data"]["max_length"])
    if problems:
        raise WorkbenchError(f"{problems[0][0]}: {problems[0][1]}")
    return task.load_model(spec, str(source.model_path), labels)


def pick_device(device: str | None) -> str:
    import torch

    if device and device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


# -- evaluating -----------------------------------------------------------------------------------------


def evaluate(
    model_or_run: str | Path | Source,
    data_file: str | Path,
    *,
    task: str | None = None,
    split: str | None = None,
    batch_size: int | None = None,
    max_length: int | None = None,
    output: str | Path | None = None,
    write: bool = True,
    device: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> EvalReport:
    """Evaluate a run's final model, a model folder or an adapter on `data_file`.

    `progress(done, total)` is called after each batch; `log(text)` with what happens (loading,
    dropped labels, the task's notes). The predictions go to `output` (default `default_output`)
    unless `write=False`. Returns an `EvalReport`, which unpacks as `(metrics, records)`."""
    from workbench.core.tasks import get_task
    from workbench.training.configure import pad_multiple

    started = time.perf_counter()
    say = log or (lambda text: None)
    source = model_or_run if isinstance(model_or_run, Source) else resolve_source(model_or_run, task)
    task_name = source.task or task or "sequence-classification"
    task_object = get_task(task_name)
    say(f"Reading {data_file} for {task_name}")
    raw = load_eval_data(task_object, source.spec["data"], str(data_file), split)
    spec = eval_spec(source, task_name, raw, batch_size, max_length)
    kept, dropped = None, {}
    original_rows = len(raw["validation"])
    label_column = spec["data"].get("label_column")
    if task_name in LABELLED_TASKS and spec["model"].get("id2label") and label_column in raw["validation"].column_names:
        raw, kept, dropped = drop_unknown_labels(raw, label_column, source.id2label)
        if dropped:
            say("Left out " + dropped_text(original_rows - len(kept), dropped))
    tokenizer = load_tokenizer(source)
    try:
        prepared = task_object.prepare(raw, spec, tokenizer_for_prepare(tokenizer, task_name))
    except WorkbenchError as error:
        settings = "the run's spec.toml" if source.run_dir is not None else "the columns guessed from the file"
        hint = f"{error.hint + ' ' if error.hint else ''}({settings})"
        raise WorkbenchError(f"{data_file}: {error.message}", hint=hint) from None
    except (KeyError, ValueError, TypeError) as error:  # a column the task's code expected and the file lacks
        chosen = {key: value for key, value in spec["data"].items() if key.endswith("_column") and value}
        raise WorkbenchError(
            f"{data_file}: cannot prepare it for {task_name} ({type(error).__name__}: {error})",
            hint=f"Columns: {', '.join(raw['validation'].column_names)}; used: "
            + (", ".join(f"data.{key} = {value!r}" for key, value in chosen.items()) or "none"),
        ) from None
    check_head_size(source, task_name, prepared.labels, say)
    data_done = time.perf_counter()
    if prepared.validation is None or len(prepared.validation) == 0:
        raise WorkbenchError(f"{data_file}: nothing to evaluate after preparing it for {task_name}")
    for note in prepared.notes:
        say(note)
    say(f"Loading {source.model_path}")
    model = load_model(source, task_object, spec, prepared.labels)
    target = pick_device(device)
    model.to(target)
    model.eval()
    model_done = time.perf_counter()
    evaluator = task_object.evaluator(prepared, spec, tokenizer, None)
    training = spec["training"]
    result, metrics = run_batches(
        model,
        prepared.validation,
        task_object.collator(tokenizer, pad_multiple(training, False), model),
        evaluator,
        batch_size=training["per_device_eval_batch_size"],
        device=target,
        mixed_precision=training.get("mixed_precision", "no"),
        progress=progress,
    )
    evaluated = time.perf_counter()
    records = dict(result.records)
    if kept is not None and _row_ids(records, len(kept)):
        records["id"] = [kept[index] for index in records["id"]]
    report = EvalReport(
        metrics=metrics,
        records=records,
        task=task_name,
        source=source,
        data_file=str(data_file),
        examples=len(raw["validation"]),
        dropped=dropped,
        dropped_rows=0 if kept is None else original_rows - len(kept),
        notes=list(prepared.notes),
        timings={
            "data_s": data_done - started,
            "model_s": model_done - data_done,
            "evaluate_s": evaluated - model_done,
        },
    )
    if write and records:
        labels = [prepared.labels.id2label[index] for index in sorted(prepared.labels.id2label)]
        report.predictions_path = write_predictions(
            Path(output) if output else default_output(source, data_file), records, report, labels
        )
    report.seconds = time.perf_counter() - started
    return report


def _row_ids(records: dict, count: int) -> bool:
    ids = records.get("id")
    return isinstance(ids, list) and all(isinstance(value, int) and 0 <= value < count for value in ids)


def run_batches(model, dataset, collator, evaluator, *, batch_size, device, mixed_precision="no", progress=None):
    """One pass as `training/loop.py` makes it: (the evaluator's result, metrics with eval_loss first)."""
    import contextlib

    import torch
    from torch.utils.data import DataLoader

    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collator)
    total = len(loader)
    autocast = contextlib.nullcontext()
    if device.startswith("cuda") and mixed_precision in ("fp16", "bf16"):
        autocast = torch.autocast("cuda", dtype=torch.float16 if mixed_precision == "fp16" else torch.bfloat16)
    from workbench.training.loop import batch_rows

    loss_sum = torch.zeros((), device=device)
    rows = 0
    with torch.inference_mode(), autocast:
        for done, batch in enumerate(loader, start=1):
            batch = {key: value.to(device) if hasattr(value, "to") else value for key, value in batch.items()}
            outputs = model(**batch)
            if getattr(outputs, "loss", None) is not None:
                count = batch_rows(batch)  # weighted by rows, as the run's own evaluation and Trainer do
                loss_sum += outputs.loss.detach().float() * count
                rows += count
            evaluator.add(batch, outputs, model)
            if progress is not None:
                progress(done, total)
    eval_loss = float(loss_sum.item()) / rows if rows else math.nan
    result = evaluator.finish(eval_loss)
    return result, {"eval_loss": eval_loss, **{key: float(value) for key, value in result.metrics.items()}}


# -- the predictions file ---------------------------------------------------------------------------------


def default_output(source: Source, data_file: str | Path) -> Path:
    """`<run>/predictions/eval-<file stem>.parquet` for a run, else `./eval-predictions.parquet`."""
    if source.run_dir is not None:
        stem = Path(str(data_file)).name.split(".")[0] or "data"
        return source.run_dir / PREDICTIONS_DIR / f"eval-{stem}.parquet"
    return Path(DEFAULT_OUTPUT)


def write_predictions(path: Path, records: dict[str, list], report: EvalReport, labels: list[str]) -> Path:
    """The records as Parquet (the columns a run's predictions have), written atomically.

    The schema metadata holds `workbench.eval` (JSON: task, model, data file, the model's labels in
    id order, the metrics), which the Errors view reads for the label order."""
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {}
    for name, values in records.items():
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array([None if value is None else str(value) for value in values])
    table = pa.table(columns)
    about = {
        "task": report.task,
        "model": str(report.source.model_path),
        "data_file": report.data_file,
        "labels": labels,
        "metrics": {key: value for key, value in report.metrics.items() if math.isfinite(value)},
        "dropped": report.dropped,
    }
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"workbench.eval": json.dumps(about)})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".partial")
        pq.write_table(table, temporary)
        os.replace(temporary, path)
    except OSError as error:
        raise WorkbenchError(f"cannot write the predictions to {path}: {error.strerror or error}") from None
    return path
