"""What loading a checkpoint with a head means (on the meta device), and loading it for real.

A peft adapter folder (adapter_config.json, no config.json: what a LoRA run leaves in final/) opens
as its base model, named in adapter_config.json, with the adapter loaded on top and merged in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.errors import WorkbenchError
from workbench.core.lazy_imports import TRANSFORMERS_LOCK, transformers_module
from workbench.core.models.heads import HeadKind, class_name_for
from workbench.core.models.inspect import CheckpointInfo, check_architecture
from workbench.core.models.labels import Labels


class Cancelled(WorkbenchError):
    """The user cancelled a load."""


class LabelMismatchError(WorkbenchError):
    """The requested label count differs from the checkpoint's classification head."""

    def __init__(self, message: str, mismatched: list[tuple[str, tuple, tuple]], **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.mismatched = mismatched


@dataclass
class HeadReport:
    head: HeadKind
    class_name: str
    total_params: int
    base_params: int
    from_checkpoint: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple, tuple]] = field(default_factory=list)  # key, checkpoint shape, model shape
    new_params: int = 0
    head_keys: list[str] = field(default_factory=list)
    weights_read: bool = True  # False when the weights could not be compared (pickle, none)

    @property
    def head_params(self) -> int:
        return self.total_params - self.base_params

    @property
    def head_all_new(self) -> bool:
        """Every weight of the head is freshly initialised: its output is noise until trained."""
        fresh = set(self.new) | {key for key, _, _ in self.mismatched}
        return bool(self.head_keys) and all(key in fresh for key in self.head_keys)

    @property
    def status(self) -> str:
        if not self.weights_read:
            return "not compared"
        if not self.new and not self.mismatched:
            return "all from checkpoint"
        if self.head_all_new and not (set(self.new) - set(self.head_keys)):
            return "new head (random)"
        return "partly new"

    def as_dict(self) -> dict:
        return {
            "head": self.head.key,
            "class": self.class_name,
            "parameters": self.total_params,
            "base_parameters": self.base_params,
            "head_parameters": self.head_params,
            "status": self.status,
            "new_parameters": self.new_params,
            "from_checkpoint": len(self.from_checkpoint),
            "new": list(self.new),
            "unused": list(self.unused),
            "mismatched": [
                {"key": key, "checkpoint": list(old), "model": list(new)} for key, old, new in self.mismatched
            ],
        }


@dataclass
class LoadOptions:
    head: HeadKind
    labels: Labels | None = None
    trust_remote_code: bool = False
    allow_pickle: bool = False
    ignore_mismatched_sizes: bool = False
    seed: int = 0  # new (random) head weights are drawn from this seed, so a load is repeatable


def quiet_transformers() -> None:
    """No load reports or progress bars on the terminal: the pane shows what matters."""
    transformers = transformers_module()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def build_config(info: CheckpointInfo, labels: Labels | None, trust_remote_code: bool = False):
    AutoConfig = transformers_module().AutoConfig

    overrides = {}
    if labels is not None:
        overrides = {"num_labels": len(labels), "id2label": labels.id2label, "label2id": labels.label2id}
    from huggingface_hub.errors import StrictDataclassError  # config fields of the wrong type ("hidden_size": "big")

    try:
        return AutoConfig.from_pretrained(str(info.path), trust_remote_code=trust_remote_code, **overrides)
    except (OSError, ValueError, KeyError, TypeError, StrictDataclassError) as error:
        one_line = " ".join(str(error).split())  # the validation errors span lines
        raise WorkbenchError(f"{info.path / 'config.json'}: transformers cannot read it: {one_line}") from error


def check_loadable(info: CheckpointInfo, options: LoadOptions) -> None:
    """Refuse, with a reason, before anything is loaded."""
    check_architecture(info)
    if info.needs_remote_code and not options.trust_remote_code:
        raise WorkbenchError(
            f"{info.name} needs trust_remote_code: its architecture ({info.model_type}) comes as Python code"
            " inside the checkpoint, which would run on this machine.",
            hint="Read that code first; then opt in for this model"
            " (pane: 'Trust remote code'; CLI: --trust-remote-code).",
        )
    if not info.known_architecture and not info.needs_remote_code:
        raise WorkbenchError(
            f"Unknown architecture {info.model_type!r} in {info.name}: transformers {transformers_version()}"
            " does not implement it and the checkpoint brings no code.",
            hint="Upgrade transformers, or pick another checkpoint.",
        )
    if info.weights.format == "pickle" and not options.allow_pickle:
        raise WorkbenchError(
            f"{info.name} has pickle weights ({', '.join(f.name for f in info.weights.files)});"
            " unpickling can run code.",
            hint="Allow pickle for this model if you trust its source (pane: 'Allow pickle'; CLI: --allow-pickle),"
            " or convert it to safetensors.",
        )
    if info.weights.format == "none":
        raise WorkbenchError(
            f"{info.name} has no weights (no model.safetensors or pytorch_model.bin).",
            hint="Create a model from this config instead (random weights), or pick a complete checkpoint.",
        )
    if info.known_architecture and class_name_for(options.head, info.model_type) is None:
        raise WorkbenchError(f"{info.model_type} models have no {options.head.title.lower()} head in transformers.")


def mismatch_details(mismatched: list[tuple[str, tuple, tuple]], wanted: str, shown: int = 3) -> str:
    """The first few shape mismatches and how many more (a config off by one size touches every layer)."""
    details = "; ".join(f"{key}: checkpoint {list(old)}, {wanted} {list(new)}" for key, old, new in mismatched[:shown])
    return details + (f"; and {len(mismatched) - shown} more" if len(mismatched) > shown else "")


def body_mismatch(config_json: Path, mismatched: list[tuple[str, tuple, tuple]], head_keys: list[str]) -> str | None:
    """What is wrong when tensors outside the head differ in shape from the checkpoint's: config.json's sizes
    disagree with the weights, which no label choice or fresh head fixes. None when only the head differs."""
    body = [item for item in mismatched if item[0] not in head_keys]
    if not body:
        return None
    return (
        f"{config_json} does not match the weights: {len(body)} tensors of the model's body differ in shape"
        f" ({mismatch_details(body, 'config')})"
    )


def transformers_version() -> str:
    return transformers_module().__version__


def estimate_load_bytes(info: CheckpointInfo) -> int:
    """Memory a load needs: the weights as stored plus a margin for activations and the head."""
    return int(info.weights.size_bytes * 1.2) + 64 * 2**20


def check_memory(info: CheckpointInfo, available_bytes: int | None = None) -> None:
    import psutil

    available = psutil.virtual_memory().available if available_bytes is None else available_bytes
    needed = estimate_load_bytes(info)
    if needed > available:
        raise WorkbenchError(
            f"{info.name} needs about {needed / 2**30:.1f} GiB to load, but only {available / 2**30:.1f} GiB is free.",
            hint="Close other programs, pick a smaller checkpoint, or load it on a machine with more memory.",
        )


def _count_unique(parameters) -> int:
    seen, total = set(), 0
    for parameter in parameters:
        if id(parameter) not in seen:
            seen.add(id(parameter))
            total += parameter.numel()
    return total


def analyse_head(
    info: CheckpointInfo,
    head: HeadKind,
    labels: Labels | None = None,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
) -> HeadReport:
    """Build the head on the meta device and compare it with the checkpoint: no weight data is read."""
    compare = info.weights.format == "safetensors" or (info.weights.format == "pickle" and allow_pickle)
    with TRANSFORMERS_LOCK:
        quiet_transformers()
        class_name = class_name_for(head, info.model_type)
        if class_name is None:
            raise WorkbenchError(f"{info.model_type} models have no {head.title.lower()} head in transformers.")
        model_class = getattr(transformers_module(), class_name)
        # Labels size only the heads that classify: a QA head's two outputs (start, end) stay two.
        config = build_config(info, labels if head.takes_labels else None, trust_remote_code)
        try:
            if compare:
                model, loading = model_class.from_pretrained(
                    str(info.path),
                    config=config,
                    device_map="meta",
                    output_loading_info=True,
                    ignore_mismatched_sizes=True,
                    trust_remote_code=trust_remote_code,
                )
            else:
                from accelerate import init_empty_weights

                with init_empty_weights():
                    model = model_class(config)
                loading = None
        except (OSError, ValueError, RuntimeError, KeyError, TypeError, AttributeError) as error:
            raise WorkbenchError(f"Cannot build {class_name} for {info.name}: {error}") from error
    state_keys = list(model.state_dict().keys())
    shapes = {key: tuple(tensor.shape) for key, tensor in model.state_dict().items()}
    base = getattr(model, "base_model", model)
    report = HeadReport(
        head=head,
        class_name=class_name,
        total_params=_count_unique(model.parameters()),
        base_params=_count_unique(base.parameters()),
        head_keys=own_head_keys(model),
        weights_read=compare,
    )
    if loading is None:
        report.new = state_keys if info.weights.format == "none" else []
    else:
        report.new = sorted(loading["missing_keys"])
        report.unused = sorted(loading["unexpected_keys"])
        report.mismatched = sorted((key, tuple(old), tuple(new)) for key, old, new in loading["mismatched_keys"])
    if info.adapter is not None:  # the adapter brings these (a classifier trained in full, ...)
        provided = adapter_weight_keys(info.adapter)
        report.new = [key for key in report.new if key not in provided]
        report.mismatched = [item for item in report.mismatched if item[0] not in provided]
    fresh = set(report.new) | {key for key, _, _ in report.mismatched}
    report.from_checkpoint = [key for key in state_keys if key not in fresh] if compare else []
    report.new_params = sum(_numel(shapes.get(key, ())) for key in fresh)
    return report


def own_head_keys(model) -> list[str]:
    """Keys of the head's own weights: outside the base model and not tied to it (e.g. an LM decoder)."""
    base = getattr(model, "base_model", model)
    if base is model:
        return []
    prefix = getattr(model, "base_model_prefix", "")
    base_tensors = {id(tensor) for tensor in base.parameters()}
    named = dict(model.named_parameters(remove_duplicate=False))
    return [
        key for key in model.state_dict() if not key.startswith(f"{prefix}.") and id(named.get(key)) not in base_tensors
    ]


def _numel(shape: tuple) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def analyse_heads(info: CheckpointInfo, **options) -> list[HeadReport]:
    """A report for every head the architecture has (each built on the meta device)."""
    from workbench.core.models.heads import heads_for

    check_architecture(info)
    if not info.known_architecture:
        return []
    return [analyse_head(info, head, **options) for head, _ in heads_for(info.model_type)]


@dataclass
class LoadedModel:
    info: CheckpointInfo
    options: LoadOptions
    model: object
    tokenizer: object | None
    report: HeadReport

    @property
    def id2label(self) -> dict[int, str]:
        return {int(key): str(value) for key, value in (self.model.config.id2label or {}).items()}


def load_model(
    info: CheckpointInfo,
    options: LoadOptions,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Callable[[str, float], None] = lambda step, fraction: None,
    available_bytes: int | None = None,
) -> LoadedModel:
    """Load the checkpoint with the chosen head; check `should_stop` between steps."""
    asked = options  # what the LoadedModel reports (the pane compares it with its widgets)
    if info.adapter is not None:
        options = adapter_options(info, options)
    check_loadable(info, options)
    check_memory(info, available_bytes)

    def step(name: str, fraction: float) -> None:
        if should_stop():
            raise Cancelled(f"Loading {info.name} was cancelled.")
        progress(name, fraction)

    step("comparing weights", 0.1)
    report = analyse_head(info, options.head, options.labels, options.trust_remote_code, options.allow_pickle)
    problem = body_mismatch(info.path / "config.json", report.mismatched, report.head_keys)
    if problem is not None:
        raise WorkbenchError(
            f"{problem}.", hint="Restore the config.json saved with these weights; --fresh-head replaces only the head."
        )
    if report.mismatched and not options.ignore_mismatched_sizes:
        details = mismatch_details(report.mismatched, "asked")
        checkpoint_labels = len(info.id2label) or "a different number of"
        asked = len(options.labels) if options.labels else "the default"
        raise LabelMismatchError(
            f"The checkpoint's {options.head.title.lower()} head has {checkpoint_labels} labels, you asked for {asked}"
            f" ({details}).",
            report.mismatched,
            hint="Load it with a fresh head for the new labels (ignore_mismatched_sizes; pane: 'Fresh head';"
            " CLI: --fresh-head), or keep the checkpoint's labels.",
        )
    step("loading tokenizer", 0.3)
    tokenizer = None
    # An adapter run saves its tokenizer next to the adapter: that one, else the base's.
    tokenizer_folder = info.adapter if info.adapter and (info.adapter / "tokenizer_config.json").is_file() else None
    if info.tokenizer_class or tokenizer_folder:
        from workbench.core.tokenizer.loader import load_hf_tokenizer

        tokenizer = load_hf_tokenizer(tokenizer_folder or info.path, trust_remote_code=options.trust_remote_code)
    step("loading weights", 0.5)
    import torch

    with TRANSFORMERS_LOCK:
        labels = options.labels if options.head.takes_labels else None
        config = build_config(info, labels, options.trust_remote_code)
        model_class = getattr(transformers_module(), report.class_name)
        torch.manual_seed(options.seed)
        try:
            model = model_class.from_pretrained(
                str(info.path),
                config=config,
                ignore_mismatched_sizes=options.ignore_mismatched_sizes,
                trust_remote_code=options.trust_remote_code,
                use_safetensors=info.weights.format == "safetensors",
            )
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as error:
            raise WorkbenchError(f"Loading {info.name} failed: {error}") from error
    if info.adapter is not None:
        step("loading the adapter", 0.8)
        model = apply_adapter(model, info)
    model.eval()
    step("ready", 1.0)
    return LoadedModel(info=info, options=asked, model=model, tokenizer=tokenizer, report=report)


# -- peft adapter folders -------------------------------------------------------------------------


def adapter_base(folder: Path, adapter_config: dict) -> tuple[Path, str]:
    """The folder and the name of the base model an adapter names (`base_model_name_or_path`): the
    embedded encoder, a local folder, or a Hub id (cached, or downloaded when online)."""
    from workbench.core.embedded import EMBEDDED_MODEL_NAME, embedded_model_path, is_embedded
    from workbench.core.hub.card import EMBEDDED_BASE_MODEL

    config_file = folder / "adapter_config.json"
    base = adapter_config.get("base_model_name_or_path")
    if not isinstance(base, str) or not base.strip():
        raise WorkbenchError(
            f"{config_file} names no base model (base_model_name_or_path is empty).",
            hint="Write the base model's Hub id or folder there, then open the adapter again.",
        )
    if base == EMBEDDED_BASE_MODEL or is_embedded(base):
        return embedded_model_path(), EMBEDDED_MODEL_NAME
    candidate = Path(base).expanduser()
    if candidate.is_dir():
        return candidate, base
    fix = f"Put the base model back, or write where it is now as base_model_name_or_path in {config_file}."
    if base.startswith(("/", ".", "~")) or candidate.exists():
        raise WorkbenchError(f"The adapter's base model {base} (named in {config_file}) is not there.", hint=fix)
    from workbench.core.models.catalog import resolve

    try:
        return resolve(base)
    except WorkbenchError as error:
        raise WorkbenchError(
            f"The adapter's base model {base!r} (named in {config_file}) cannot be found: {error.message}",
            hint=error.hint or fix,
        ) from None


def inspect_adapter(folder: Path, name: str | None = None, *, check: bool = True) -> CheckpointInfo:
    """The base checkpoint's summary, with the adapter folder attached and the trained head's config
    (labels, architecture) read from head_config.json when the run left one."""
    from workbench.core.models.inspect import inspect_checkpoint
    from workbench.core.tasks.lora import read_adapter_config, read_head_config

    folder = Path(folder)
    adapter_config = read_adapter_config(folder)
    base_path, base_name = adapter_base(folder, adapter_config)
    if (base_path / "adapter_config.json").is_file() and not (base_path / "config.json").is_file():
        raise WorkbenchError(
            f"{folder}: its base model {base_name} is an adapter too; adapters on adapters are not supported."
        )
    info = inspect_checkpoint(base_path, name=base_name, check=check)
    shown = name or folder.name
    if shown == "final":  # a run's final/ folder: the run names it
        shown = f"{folder.resolve().parent.name}/final"
    info.name = f"{shown} (LoRA adapter on {base_name})"
    info.adapter = folder
    head_config = read_head_config(folder)
    if head_config.get("model_type") == info.model_type:
        info.config = head_config
    targets = adapter_config.get("target_modules")
    targets = ", ".join(targets) if isinstance(targets, list) else targets
    info.warnings.insert(
        0,
        f"A {adapter_config.get('peft_type', 'peft')} adapter (r={adapter_config.get('r')}, on {targets}) over"
        f" {base_name}: the base is loaded and the adapter merged into it.",
    )
    return info


def adapter_head(adapter: Path) -> str | None:
    """The head an adapter was trained with (a HeadKind key), from its task type or head config."""
    from workbench.core.tasks.lora import TASK_TYPE_HEADS, read_adapter_config, read_head_config

    head = TASK_TYPE_HEADS.get(str(read_adapter_config(adapter).get("task_type")))
    if head is not None:
        return head
    for architecture in read_head_config(adapter).get("architectures") or []:
        if architecture.endswith("ForMaskedLM"):
            return "masked-lm"
    return None


def adapter_options(info: CheckpointInfo, options: LoadOptions) -> LoadOptions:
    """Load options for an adapter: its own head, and the trained head's labels unless others were given."""
    from dataclasses import replace

    from workbench.core.models.labels import Labels

    trained = adapter_head(info.adapter)
    if trained is not None and trained != options.head.key:
        raise WorkbenchError(
            f"{info.adapter.name} is a {trained} adapter; open it with the {trained} head, not {options.head.key}.",
            hint=f"CLI: --head {trained}",
        )
    labels = options.labels
    if labels is None and options.head.takes_labels and info.id2label:
        labels = Labels(tuple(info.id2label[index] for index in sorted(info.id2label)))
    # The head's weights come from the adapter, whatever size the base's own head has.
    return replace(options, labels=labels, ignore_mismatched_sizes=True)


def adapter_weight_keys(adapter: Path) -> set[str]:
    """The base model's weight names an adapter file replaces (modules trained in full, e.g. the head)."""
    from workbench.core.models.inspect import read_safetensors_header

    path = adapter / "adapter_model.safetensors"
    if not path.is_file():
        return set()
    keys = set()
    for key in read_safetensors_header(path):
        if "lora_" not in key:
            keys.add(key.removeprefix("base_model.model."))
    return keys


def apply_adapter(model, info: CheckpointInfo):
    """The base model with the adapter loaded and merged in: a plain transformers model again."""
    import warnings

    from peft import PeftModel

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
            with TRANSFORMERS_LOCK:
                peft_model = PeftModel.from_pretrained(model, str(info.adapter))
            return peft_model.merge_and_unload()
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as error:
        raise WorkbenchError(f"Loading the adapter in {info.adapter} over {info.name} failed: {error}") from error
