"""LoRA through peft: the spec's `model.lora` table, the adapter put on a task's model, and saving it.

Settings keep peft's own names (`LoraConfig`) and, where the table leaves one out, peft's own
defaults (read from `LoraConfig`, so a run with `{r = 8}` is the same as `LoraConfig(r=8)` under
Trainer). `r > 0` turns LoRA on; `save_merged` is ours: `final/merged/` then also holds the base
model with the adapter merged in (`merge_and_unload`), a plain transformers checkpoint.

The default `target_modules` per architecture come from peft's own table
(`TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING`); architectures it lacks (DistilBERT, …) get
the attention projections found in the model. Target names that match no module are refused with
the names of the model's Linear modules.

peft and torch are imported inside functions only.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
# The trained model's config (head class, labels) next to the adapter: transformers reads a folder
# holding both config.json and adapter_config.json as a full model, so it cannot be config.json.
HEAD_CONFIG = "head_config.json"
MERGED_DIR = "merged"

# spec `model.lora` key -> what it takes (for the messages); `save_merged` is ours, the rest peft's.
KEYS = {
    "r": "the adapter's rank, an integer; more than 0 turns LoRA on",
    "lora_alpha": "the scaling numerator (scale = lora_alpha / r)",
    "lora_dropout": "dropout on the adapter's input, 0 to below 1",
    "target_modules": 'module names (["query", "value"]), one regular expression, or "all-linear"',
    "exclude_modules": "module names left without an adapter",
    "bias": '"none", "all" or "lora_only": which biases train',
    "modules_to_save": "modules trained in full and saved with the adapter (the head, …)",
    "use_rslora": "rank-stabilised scaling, lora_alpha / sqrt(r)",
    "use_dora": "weight-decomposed LoRA (DoRA)",
    "save_merged": "also save the merged model in final/merged/",
}
BIASES = ("none", "all", "lora_only")

# workbench task -> peft TaskType name. masked-lm has none: the generic PeftModel wraps it (its
# forward passes every argument through, labels included), and the MLM head stays frozen.
TASK_TYPES = {
    "sequence-classification": "SEQ_CLS",
    "token-classification": "TOKEN_CLS",
    "question-answering": "QUESTION_ANS",
    "causal-lm": "CAUSAL_LM",
    "seq2seq": "SEQ_2_SEQ_LM",
    "masked-lm": None,
}
# peft TaskType -> the transformers head class prefix, for opening adapters without a head config.
TASK_TYPE_HEADS = {
    "SEQ_CLS": "sequence-classification",
    "TOKEN_CLS": "token-classification",
    "QUESTION_ANS": "question-answering",
    "CAUSAL_LM": "causal-lm",
    "SEQ_2_SEQ_LM": "seq2seq-lm",
}

# The head modules peft itself keeps trainable for its task types.
PEFT_HEAD_NAMES = ("classifier", "score", "qa_outputs")

# Attention projections tried, in order, for architectures peft's table lacks: the first pair found
# in the model is the default (LoRA's paper adapts the query and value projections).
FALLBACK_TARGETS = (
    ("q_proj", "v_proj"),
    ("query", "value"),
    ("q_lin", "v_lin"),
    ("q", "v"),
    ("query_proj", "value_proj"),
    ("c_attn",),
    ("query_key_value",),
    ("Wqkv",),
    ("qkv_proj",),
)


@dataclass(frozen=True)
class Counts:
    trainable: int
    total: int

    @property
    def share(self) -> float:
        return self.trainable / self.total if self.total else 0.0

    def describe(self) -> str:
        return f"{self.trainable:,} of {self.total:,} parameters trainable ({100 * self.share:.2f}%)"

    def as_dict(self) -> dict:
        return {"trainable": self.trainable, "total": self.total}


def enabled(table: Any) -> bool:
    """Whether the spec's `model.lora` turns LoRA on (a table with r > 0)."""
    r = table.get("r") if isinstance(table, dict) else None
    return isinstance(r, int) and not isinstance(r, bool) and r > 0


def validate_lora(table: Any, *, from_config: bool = False) -> list[tuple[str, str]]:
    """Every problem of a `model.lora` table, as (field, message) with fields `model.lora.<key>`."""
    if table in (None, {}):
        return []
    if not isinstance(table, dict):
        return [("model.lora", f"must be a table such as {{r = 8}}, not {table!r}")]
    problems: list[tuple[str, str]] = []

    def problem(key: str, message: str) -> None:
        problems.append((f"model.lora.{key}", message))

    for key in table:
        if key not in KEYS:
            problem(key, f"unknown key; known: {', '.join(KEYS)}")
    r = table.get("r")
    if "r" not in table:
        if any(key in KEYS for key in table):
            problem("r", "is missing: set r (e.g. 8) to turn LoRA on, or remove the other keys")
    elif not isinstance(r, int) or isinstance(r, bool) or r < 0:
        problem("r", f"must be a whole number, 0 (off) or more, not {r!r}")
    alpha = table.get("lora_alpha")
    if alpha is not None and not (_number(alpha) and alpha > 0):
        problem("lora_alpha", f"must be a number above 0, not {alpha!r}")
    dropout = table.get("lora_dropout")
    if dropout is not None and not (_number(dropout) and 0 <= dropout < 1):
        problem("lora_dropout", f"must be a number from 0 to below 1, not {dropout!r}")
    for key in ("target_modules", "exclude_modules"):
        value = table.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            if value != "all-linear":
                try:
                    re.compile(value)
                except re.error as error:
                    problem(key, f"{value!r} is not a valid regular expression ({error})")
        elif not (isinstance(value, list) and value and all(isinstance(name, str) and name for name in value)):
            problem(key, f'must be a list of module names, a regular expression or "all-linear", not {value!r}')
    bias = table.get("bias")
    if bias is not None and bias not in BIASES:
        problem("bias", f"{bias!r} is not one of {', '.join(BIASES)}")
    modules = table.get("modules_to_save")
    if modules is not None and not (isinstance(modules, list) and all(isinstance(n, str) and n for n in modules)):
        problem("modules_to_save", f"must be a list of module names, not {modules!r}")
    for key in ("use_rslora", "use_dora", "save_merged"):
        if key in table and not isinstance(table[key], bool):
            problem(key, f"must be true or false, not {table[key]!r}")
    if from_config and enabled(table):
        problem(
            "r",
            "LoRA adapts pretrained weights, but model.from_config starts from random ones (and an adapter"
            " does not save the base): set model.from_config = false or remove model.lora",
        )
    return problems


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def linear_module_names(model) -> list[str]:
    """The last names of the model's Linear (and GPT-2 Conv1D) modules, sorted: what target_modules can name."""
    import torch

    names = set()
    for full_name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) or type(module).__name__ == "Conv1D":
            names.add(full_name.rsplit(".", 1)[-1])
    return sorted(names)


def _matches(full_name: str, target: str) -> bool:
    """peft's rule for a listed name: the whole module name, or its last dotted parts."""
    return full_name == target or full_name.endswith(f".{target}")


def default_targets(model) -> list[str] | str:
    """peft's default target modules for this architecture, else the attention projections found."""
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING

    model_type = getattr(getattr(model, "config", None), "model_type", "")
    if model_type in TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING:
        return TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING[model_type]
    present = set(linear_module_names(model))
    for group in FALLBACK_TARGETS:
        if all(name in present for name in group):
            return list(group)
    raise WorkbenchError(
        f"model.lora.target_modules: peft has no default for {model_type or 'this'} models; name them",
        hint=f"Linear modules in this model: {', '.join(sorted(present)) or '(none)'}",
    )


def check_targets(model, targets: list[str] | str, key: str = "target_modules") -> None:
    """Every listed target matches a module of the model, else the names that exist."""
    if targets == "all-linear":
        return
    module_names = [name for name, _ in model.named_modules() if name]
    if isinstance(targets, str):
        missing = [] if any(re.fullmatch(targets, name) for name in module_names) else [targets]
    else:
        missing = [target for target in targets if not any(_matches(name, target) for name in module_names)]
    if missing:
        model_type = getattr(getattr(model, "config", None), "model_type", "this")
        raise WorkbenchError(
            f"model.lora.{key}: {', '.join(repr(name) for name in missing)} matches no module of this"
            f" {model_type} model",
            hint=f"Linear modules in this model: {', '.join(linear_module_names(model))}",
        )


def base_model_name(name_or_path: str) -> str:
    """What the adapter names as its base: the Hub id, or the local folder's absolute path."""
    from workbench.core.embedded import is_embedded
    from workbench.core.hub.card import EMBEDDED_BASE_MODEL

    if is_embedded(name_or_path):
        return EMBEDDED_BASE_MODEL
    path = Path(name_or_path).expanduser()
    if path.exists() or name_or_path.startswith((".", "/", "~")):
        return str(path.resolve())
    return name_or_path


def lora_config(model, table: dict, task_name: str):
    """peft's LoraConfig for this model and task, from the spec's table (targets checked)."""
    from peft import LoraConfig, TaskType

    if task_name not in TASK_TYPES:
        raise WorkbenchError(f"LoRA is not available for the {task_name} task.")
    problems = validate_lora(table)
    if problems:
        raise WorkbenchError("; ".join(f"{field}: {message}" for field, message in problems))
    # copies: peft extends modules_to_save in place, and the table is the run's spec
    options = {key: list(value) if isinstance(value, list) else value for key, value in table.items()}
    options.pop("save_merged", None)
    options["target_modules"] = options.get("target_modules") or default_targets(model)
    check_targets(model, options["target_modules"])
    if options.get("exclude_modules"):
        check_targets(model, options["exclude_modules"], "exclude_modules")
    if options.get("modules_to_save"):
        check_targets(model, options["modules_to_save"], "modules_to_save")
    targets = options["target_modules"]
    if isinstance(targets, list) and _targets_conv1d(model, targets):
        options["fan_in_fan_out"] = True  # GPT-2's Conv1D stores its weight transposed
    task_type = TASK_TYPES[task_name]
    if task_type is not None:
        options["task_type"] = getattr(TaskType, task_type)
        if "modules_to_save" not in options:
            # Head modules the checkpoint lacks train in full, as peft trains `classifier`/`score` (its
            # own names, added to these): DistilBERT's `pre_classifier`, say, would otherwise stay random.
            fresh = [name for name in fresh_head_modules(model) if name not in PEFT_HEAD_NAMES]
            if fresh:
                options["modules_to_save"] = fresh
    return LoraConfig(**options)


def _targets_conv1d(model, targets: list[str]) -> bool:
    return any(
        type(module).__name__ == "Conv1D" and any(_matches(name, target) for target in targets)
        for name, module in model.named_modules()
    )


def count_parameters(model) -> Counts:
    seen: set[int] = set()
    trainable = total = 0
    for parameter in model.parameters():
        if id(parameter) in seen:
            continue
        seen.add(id(parameter))
        total += parameter.numel()
        if parameter.requires_grad:
            trainable += parameter.numel()
    return Counts(trainable, total)


def apply(model, spec: dict, task_name: str):
    """The model with a LoRA adapter when the spec's `model.lora` turns it on, and its parameter counts.

    Only the adapter (and the modules peft keeps trainable for the task: a classifier head) train."""
    table = spec.get("model", {}).get("lora") or {}
    if not enabled(table):
        return model, count_parameters(model)
    if spec["model"].get("from_config"):
        field, message = validate_lora(table, from_config=True)[-1]
        raise WorkbenchError(f"{field}: {message}")
    from peft import get_peft_model

    if TASK_TYPES.get(task_name, "") is None and not table.get("modules_to_save"):
        refuse_fresh_head(model)
    base_name = base_model_name(str(spec["model"].get("name_or_path") or ""))
    config = lora_config(model, table, task_name)
    with warnings.catch_warnings():
        # transformers 5 deprecates the attribute peft 0.21 reads; nothing for users to act on.
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        try:
            wrapped = get_peft_model(model, config)
        except ValueError as error:
            raise WorkbenchError(f"model.lora: peft refused these settings: {error}") from error
    # get_peft_model takes the base name from the model, which is the folder it was read from (a
    # snapshot in the HF cache, the embedded model's package folder): name the base users know.
    for adapter_config in wrapped.peft_config.values():
        adapter_config.base_model_name_or_path = base_name
    return wrapped, count_parameters(wrapped)


def checkpoint_keys(name_or_path: str) -> set[str]:
    """The weight names in a checkpoint's safetensors files (a folder, or a Hub id in the cache);
    empty when they cannot be read without downloading."""
    from workbench.core.models.inspect import summarise_weights

    folder = Path(name_or_path).expanduser() if name_or_path else None
    if folder is None or not folder.is_dir():
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(name_or_path, "model.safetensors") if name_or_path else None
        except ValueError:  # not a repo id
            return set()
        if not isinstance(cached, str):
            return set()
        folder = Path(cached).parent
    try:
        return set(summarise_weights(folder).tensors)
    except (OSError, WorkbenchError):
        return set()


def fresh_head_modules(model) -> list[str]:
    """The head's top-level modules (outside the base model, not tied to it) whose weights the
    checkpoint lacks: an encoder-only checkpoint loaded with a masked-LM head, say."""
    keys = checkpoint_keys(str(getattr(model, "name_or_path", "") or ""))
    if not keys:
        return []
    prefix = getattr(model, "base_model_prefix", "")
    base = getattr(model, "base_model", model)
    base_ids = {id(parameter) for parameter in base.parameters()} if base is not model else set()
    head: dict[str, list[str]] = {}
    for name, parameter in model.named_parameters():
        if (prefix and name.startswith(f"{prefix}.")) or id(parameter) in base_ids:
            continue
        head.setdefault(name.split(".")[0], []).append(name)
    return [module for module, names in head.items() if not any(name in keys for name in names)]


def refuse_fresh_head(model) -> None:
    """LoRA without a task type (masked-lm) trains the adapter only: a head the checkpoint lacks would
    start random and stay so, and reopening the adapter would draw another one."""
    fresh = fresh_head_modules(model)
    if fresh:
        listed = ", ".join(f'"{name}"' for name in fresh)
        raise WorkbenchError(
            f"model.lora: {model.name_or_path} has no {type(model).__name__} head weights (its checkpoint holds"
            " the encoder only): with LoRA the new head would stay random",
            hint=f"Train the head in full with model.lora.modules_to_save = [{listed}], train without LoRA"
            " (model.lora.r = 0), or start from a checkpoint that has the head.",
        )


def is_adapter_model(model) -> bool:
    """A peft model (an adapter over a frozen base)."""
    try:
        from peft import PeftModel
    except ImportError:
        return False
    return isinstance(model, PeftModel)


def save_adapter(model, folder: Path, state_dict: dict | None, spec: dict, tokenizer=None) -> list[str]:
    """The adapter (adapter_config.json, adapter_model.safetensors) and the head's config into `folder`;
    with `save_merged`, the merged model and the tokenizer in `folder/merged`. Returns warnings."""
    folder = Path(folder)
    model.save_pretrained(str(folder), state_dict=state_dict, safe_serialization=True)
    (folder / "README.md").unlink(missing_ok=True)  # peft's empty card: push writes the run's own
    base = model.get_base_model()
    head_config = base.config.to_dict()
    head_config["architectures"] = [type(base).__name__]  # as save_pretrained writes it: the trained head
    (folder / HEAD_CONFIG).write_text(json.dumps(head_config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if not (spec.get("model", {}).get("lora") or {}).get("save_merged"):
        return []
    if _sharded(model):
        return [
            "model.lora.save_merged: not under FSDP (the weights are sharded); merge the adapter in final/"
            " afterwards (peft: AutoPeftModel...from_pretrained(final).merge_and_unload())"
        ]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        merged = model.merge_and_unload()
    merged.save_pretrained(str(folder / MERGED_DIR), safe_serialization=True)
    if tokenizer is not None:
        tokenizer.save_pretrained(str(folder / MERGED_DIR))
    return []


def _sharded(model) -> bool:
    """Parameters split across processes (FSDP): merging them here would merge shards."""
    return any(type(parameter).__name__ == "DTensor" for parameter in model.parameters()) or any(
        "FullyShardedDataParallel" in type(module).__name__ for module in model.modules()
    )


def read_adapter_config(folder: Path) -> dict:
    """adapter_config.json of an adapter folder, or a message naming the file."""
    path = Path(folder) / ADAPTER_CONFIG
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise WorkbenchError(f"{path}: cannot read it as JSON ({error})") from None
    if not isinstance(data, dict):
        raise WorkbenchError(f"{path}: expected a JSON object")
    return data


def read_head_config(folder: Path) -> dict:
    """head_config.json next to an adapter ({} when absent or unreadable)."""
    try:
        data = json.loads((Path(folder) / HEAD_CONFIG).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# -- counting before a run ---------------------------------------------------------------------

LABELLED_HEADS = ("sequence-classification", "token-classification")


def spec_head_labels(spec: dict):
    """The head's labels as the spec states them (`model.num_labels`, `model.id2label`); a run that
    infers them from the data (num_labels = 0, no id2label) gets the config's own head here."""
    from workbench.core.tasks.base import HeadLabels

    model = spec.get("model") or {}
    if str(model.get("head") or "sequence-classification") not in LABELLED_HEADS:
        return HeadLabels()
    id2label = model.get("id2label") if isinstance(model.get("id2label"), dict) else {}
    try:
        id2label = {int(key): str(name) for key, name in id2label.items()}
    except (TypeError, ValueError):
        id2label = {}
    num_labels = model.get("num_labels")
    if not isinstance(num_labels, int) or isinstance(num_labels, bool) or num_labels < 0:
        num_labels = 0
    return HeadLabels(num_labels or len(id2label), id2label)


def planned_counts(spec: dict, model_path: str) -> Counts:
    """The parameter counts the run of `spec` will train with, exactly, without reading a weight: the
    task's model is built from `model_path`'s config on the meta device and `apply` puts the adapter
    on it as the run does (the same defaults, checks and messages). WorkbenchError for settings the
    run would refuse."""
    import torch

    from workbench.core.tasks import get_task

    head = str(spec.get("model", {}).get("head") or "sequence-classification")
    task = get_task(head)
    # from the config (no weights), with the default attention (flash_attention_2 may be missing here)
    meta_spec = {**spec, "model": {**spec["model"], "from_config": True, "attn_implementation": ""}}
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = task.load_model(meta_spec, model_path, spec_head_labels(spec))
        _, counts = apply(model, spec, task.name)
    return counts
