"""A minimal reproducible script from a run spec: the same model, data and settings with plain
datasets + transformers (`Trainer`), short enough to paste into a forum post.

It does what the training child does up to the first optimizer step (load, check the columns,
encode the labels, tokenize, build the model) and then trains with `Trainer`, so a failure in
the data, the model or the first steps shows up the same way. The spec keys follow
`TrainingArguments` names, so most settings carry over one to one; only those that differ from
`TrainingArguments`' defaults are written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

EMBEDDED_MODEL = "embedded"  # the spec's alias for the encoder shipped with workbench
EMBEDDED_PUBLIC_ID = "sentence-transformers/all-MiniLM-L6-v2"  # what that encoder is on the Hub
DATA_BUILDERS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}

# TrainingArguments' own defaults (transformers 5): a spec value equal to one of these is left out.
TRAINING_ARGUMENT_DEFAULTS = {
    "num_train_epochs": 3.0,
    "max_steps": -1,
    "per_device_train_batch_size": 8,
    "per_device_eval_batch_size": 8,
    "gradient_accumulation_steps": 1,
    "weight_decay": 0.0,
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-8,
    "max_grad_norm": 1.0,
    "lr_scheduler_type": "linear",
    "seed": 42,
    "logging_steps": 500,
    "dataloader_num_workers": 0,
    "dataloader_pin_memory": True,
    "use_cpu": False,
}


def _identity(text: str) -> str:
    return text


def model_reference(spec: dict, public_model: str | None = None) -> tuple[str, str | None]:
    """The model id the script loads, and a comment saying where it came from (or None)."""
    name = spec.get("model", {}).get("name_or_path", "")
    if public_model:
        return public_model, f"the run used {name!r}; a public model with the same architecture stands in"
    if name == EMBEDDED_MODEL:
        return EMBEDDED_PUBLIC_ID, "the encoder workbench ships (its 'embedded' model), from the Hub"
    return name, None


def _path_code(path: str, redact: Callable[[str], str]) -> tuple[str, bool]:
    """A Python expression for a local path; a redacted `~/...` is expanded when the script runs."""
    shown = redact(str(path))
    if shown.startswith("~"):
        return f"os.path.expanduser({shown!r})", True
    return repr(shown), False


def _data_lines(data: dict, redact: Callable[[str], str]) -> tuple[list[str], set[str]]:
    imports: set[str] = set()
    if data.get("dataset"):
        config = f", {data['dataset_config']!r}" if data.get("dataset_config") else ""
        lines = [f"raw = load_dataset({data['dataset']!r}{config})"]
        splits = {"train": data.get("train_split") or "train"}
        validation = data.get("validation_split") or "validation"
        lines.append(f"data = DatasetDict(train=raw[{splits['train']!r}])")
        lines.append(f"if {validation!r} in raw:")
        lines.append(f"    data['validation'] = raw[{validation!r}]")
        imports.add("DatasetDict")
        return lines, imports
    files = {
        split: data[key] for split, key in (("train", "train_file"), ("validation", "validation_file")) if data.get(key)
    }
    entries = []
    for split, path in files.items():
        code, expands = _path_code(path, redact)
        if expands:
            imports.add("os")
        entries.append(f"{split!r}: {code}")
    suffix = Path(next(iter(files.values()), "data.csv")).suffix.lower()
    builder = DATA_BUILDERS.get(suffix, "csv")
    options, comment = "", ""
    if suffix == ".tsv":
        imports.add("csv")
        options = ', sep="\\t", quoting=csv.QUOTE_NONE, keep_default_na=False'
        comment = "  # TSV as GLUE writes it: no quoting"
    elif suffix == ".csv":
        options = ", keep_default_na=False"
    lines = [f"data = load_dataset({builder!r}, data_files={{{', '.join(entries)}}}{options}){comment}"]
    if suffix in (".csv", ".tsv"):
        lines += [
            "for split in data:  # a byte-order mark glued to the first column name",
            "    first = data[split].column_names[0]",
            "    if first.startswith('\\ufeff'):",
            "        data[split] = data[split].rename_column(first, first.lstrip('\\ufeff'))",
        ]
    return lines, imports


def _training_arguments(training: dict, has_validation: bool) -> list[str]:
    arguments = {"output_dir": "repro-output", "learning_rate": training.get("learning_rate", 5e-5)}
    if training.get("max_steps", -1) > 0:
        arguments["max_steps"] = training["max_steps"]
    for key, default in TRAINING_ARGUMENT_DEFAULTS.items():
        if key in training and key != "max_steps" and training[key] != default:
            arguments[key] = training[key]
    if training.get("warmup_ratio"):
        arguments["warmup_steps"] = training["warmup_ratio"]  # a float below 1 is a ratio of the steps
    if training.get("group_by_length"):
        arguments["train_sampling_strategy"] = "group_by_length"
    if training.get("mixed_precision") in ("fp16", "bf16"):
        arguments[training["mixed_precision"]] = True
    strategy = training.get("eval_strategy", "epoch") if has_validation else "no"
    if strategy != "no":
        arguments["eval_strategy"] = strategy
        if strategy == "steps" and training.get("eval_steps"):
            arguments["eval_steps"] = training["eval_steps"]
    arguments["save_strategy"] = "no"
    arguments["report_to"] = "none"
    return ["args = TrainingArguments("] + [f"    {key}={value!r}," for key, value in arguments.items()] + [")"]


def reproduction_script(
    spec: dict,
    *,
    public_model: str | None = None,
    title: str = "",
    redact: Callable[[str], str] = _identity,
) -> str:
    """A runnable script (`python repro.py`) doing what the run did, with datasets and transformers only."""
    model, data, training = spec.get("model", {}), spec.get("data", {}), spec.get("training", {})
    model_id, model_note = model_reference(spec, public_model)
    model_code, model_expands = (
        _path_code(model_id, redact) if Path(model_id).expanduser().is_absolute() else (repr(model_id), False)
    )
    load_lines, imports = _data_lines(data, redact)
    if model_expands:
        imports.add("os")
    text, pair, label = data.get("text_column", "text"), data.get("text_pair_column") or None, data.get("label_column")
    has_validation = bool(data.get("validation_file") or data.get("dataset"))
    header = [f'"""{title or "Reproduces a workbench run"}', "", "Run it with `python repro.py`", '"""', ""]
    header += [f"import {name}" for name in sorted(imports & {"csv", "os"})]
    if imports & {"csv", "os"}:
        header.append("")
    datasets_names = ", ".join(sorted({"ClassLabel", "load_dataset"} | (imports & {"DatasetDict"})))
    header += [
        f"from datasets import {datasets_names}",
        "from transformers import (",
        "    AutoModelForSequenceClassification,",
        "    AutoTokenizer,",
        "    DataCollatorWithPadding,",
        "    Trainer,",
        "    TrainingArguments,",
        ")",
        "",
    ]
    body = [f"model_id = {model_code}" + (f"  # {model_note}" if model_note else "")]
    body.append(f"text_column, pair_column, label_column = {text!r}, {pair!r}, {label!r}")
    body += [""] + load_lines
    body += [
        "for split, dataset in data.items():  # the column check workbench makes before tokenizing",
        "    for column in (text_column, pair_column, label_column):",
        "        if column and column not in dataset.column_names:",
        '            columns = ", ".join(dataset.column_names)',
        '            raise ValueError(f"no column {column!r} in the {split} data (columns: {columns})")',
    ]
    for split, key in (("train", "max_train_samples"), ("validation", "max_eval_samples")):
        if data.get(key):
            guard = f"if {split!r} in data:\n    " if split == "validation" else ""
            body.append(
                f"{guard}data[{split!r}] = data[{split!r}].select(range(min({data[key]}, len(data[{split!r}]))))"
            )
    id2label = {int(k): v for k, v in (model.get("id2label") or {}).items()}
    body += ["", "feature = data['train'].features[label_column]"]
    if id2label:
        names = [id2label[i] for i in sorted(id2label)]
        body += [
            f"label_names = {names!r}  # the spec's id2label",
            "if feature.dtype in ('string', 'large_string'):",
            "    data = data.cast_column(label_column, ClassLabel(names=label_names))",
            "num_labels = len(label_names)",
        ]
    else:
        body += [
            "if isinstance(feature, ClassLabel):",
            "    num_labels = feature.num_classes",
            "elif feature.dtype in ('string', 'large_string'):  # text labels become classes, in sorted order",
            "    label_names = sorted(set(data['train'][label_column]))",
            "    data = data.cast_column(label_column, ClassLabel(names=label_names))",
            "    num_labels = len(label_names)",
            "elif feature.dtype.startswith('float'):  # float labels mean regression",
            "    num_labels = 1",
            "else:",
            f"    num_labels = max({int(model.get('num_labels') or 0)}, max(data['train'][label_column]) + 1)",
        ]
    body += [
        "if label_column != 'labels':",
        "    data = data.rename_column(label_column, 'labels')",
        "",
        "tokenizer = AutoTokenizer.from_pretrained(model_id)",
        "",
        "",
        "def tokenize(batch):",
        "    second = batch[pair_column] if pair_column else None",
        f"    return tokenizer(batch[text_column], second, truncation=True, max_length={data.get('max_length', 128)})",
        "",
        "",
        "data = data.map(tokenize, batched=True)",
        "model = AutoModelForSequenceClassification.from_pretrained(",
        "    model_id,",
        "    num_labels=num_labels,",
        f"    attn_implementation={model.get('attn_implementation') or 'sdpa'!r},",
        ")",
    ]
    body += _training_arguments(training, has_validation)
    pad = training.get("pad_to_multiple_of") or None
    body += [
        "trainer = Trainer(",
        "    model=model,",
        "    args=args,",
        "    train_dataset=data['train'],",
        "    eval_dataset=data.get('validation'),",
        f"    data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of={pad!r}),",
        "    processing_class=tokenizer,",
        ")",
        "trainer.train()",
    ]
    return "\n".join(header + body) + "\n"
