"""A model from a config with random weights (family + size preset + edits), and saving any model."""

from __future__ import annotations

from pathlib import Path

from workbench.core.errors import WorkbenchError

# family -> (config class, size presets). Sizes follow the published checkpoints' shapes.
FAMILIES: dict[str, tuple[str, dict[str, dict]]] = {
    "bert": (
        "BertConfig",
        {
            "tiny": {"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 512},
            "mini": {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024},
            "small": {"hidden_size": 512, "num_hidden_layers": 4, "num_attention_heads": 8, "intermediate_size": 2048},
            "base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072},
        },
    ),
    "gpt2": (
        "GPT2Config",
        {
            "tiny": {"n_embd": 128, "n_layer": 2, "n_head": 2},
            "small": {"n_embd": 768, "n_layer": 12, "n_head": 12},
            "medium": {"n_embd": 1024, "n_layer": 24, "n_head": 16},
        },
    ),
    "t5": (
        "T5Config",
        {
            "tiny": {"d_model": 128, "d_ff": 512, "d_kv": 32, "num_layers": 2, "num_heads": 4},
            "small": {"d_model": 512, "d_ff": 2048, "d_kv": 64, "num_layers": 6, "num_heads": 8},
            "base": {"d_model": 768, "d_ff": 3072, "d_kv": 64, "num_layers": 12, "num_heads": 12},
        },
    ),
}
DEFAULT_HEAD = {"bert": "masked-lm", "gpt2": "causal-lm", "t5": "seq2seq-lm"}
# Sizes and counts: 0 or less divides by zero in the attention, or builds a model with no layers.
SIZE_FIELDS = {name for _, presets in FAMILIES.values() for fields in presets.values() for name in fields} | {
    "vocab_size",
    "max_position_embeddings",
    "n_positions",
}


def preset_fields(family: str, preset: str) -> dict:
    try:
        _, presets = FAMILIES[family]
    except KeyError:
        raise WorkbenchError(f"Unknown model family {family!r}.", hint=f"Families: {', '.join(FAMILIES)}.") from None
    try:
        return dict(presets[preset])
    except KeyError:
        raise WorkbenchError(f"{family} has no {preset!r} preset.", hint=f"Presets: {', '.join(presets)}.") from None


def parse_overrides(text: str) -> dict:
    """ "hidden_size=64, num_hidden_layers=2" -> {"hidden_size": 64, ...} (ints, floats, true/false)."""
    overrides: dict = {}
    for position, part in enumerate(filter(None, (p.strip() for p in text.split(","))), start=1):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise WorkbenchError(f"Config edit {position} ({part!r}) is not field=value.")
        value = value.strip()
        for convert in (int, float):
            try:
                overrides[key.strip()] = convert(value)
                break
            except ValueError:
                continue
        else:
            overrides[key.strip()] = {"true": True, "false": False}.get(value.lower(), value)
    return overrides


def build_config(family: str, preset: str, overrides: dict | None = None, tokenizer=None):
    from workbench.core.lazy_imports import transformers_module

    transformers = transformers_module()

    fields = preset_fields(family, preset)
    config_class = getattr(transformers, FAMILIES[family][0])
    if tokenizer is not None:
        fields["vocab_size"] = len(tokenizer)
        for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
            token_id = getattr(tokenizer, name, None)
            fields[name] = (
                token_id
                if token_id is not None
                else getattr(tokenizer, "cls_token_id" if name == "bos_token_id" else "sep_token_id", None)
            )
        if family == "t5":
            fields["decoder_start_token_id"] = fields.get("pad_token_id") or 0
    fields.update(overrides or {})
    known = set(config_class().to_dict()) | set(getattr(config_class, "attribute_map", {}))
    unknown = sorted(set(overrides or {}) - known)
    if unknown:
        raise WorkbenchError(f"{config_class.__name__} has no field {', '.join(unknown)}.")
    for key, value in (overrides or {}).items():
        if key in SIZE_FIELDS and isinstance(value, int | float) and value < 1:
            raise WorkbenchError(f"Config edit {key}={value}: {key} must be 1 or more.")
    from huggingface_hub.errors import StrictDataclassError  # a field of the wrong type: hidden_size=abc

    try:
        return config_class(**fields)
    except (TypeError, ValueError, StrictDataclassError) as error:
        one_line = " ".join(str(error).split())  # the validation errors span lines
        raise WorkbenchError(f"That {family} config is not valid: {one_line}") from error


def create_model(
    family: str, preset: str, head_key: str | None = None, overrides: dict | None = None, tokenizer=None, seed: int = 0
):
    """A model with random weights; `tokenizer` sets the vocabulary size and special ids."""
    import torch

    from workbench.core.models.heads import head_kind, model_class

    config = build_config(family, preset, overrides, tokenizer)
    head = head_kind(head_key or DEFAULT_HEAD[family])
    torch.manual_seed(seed)
    try:
        return model_class(head, config.model_type)(config)
    except (ValueError, RuntimeError) as error:
        raise WorkbenchError(f"Cannot build a {family} {head.title.lower()} model from that config: {error}") from error


def save_model(model, tokenizer, folder: Path | str) -> Path:
    """save_pretrained for the model (safetensors) and its tokenizer, into one folder."""
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise WorkbenchError(f"{folder} is a file; choose a folder to save the model into.")
    if folder.is_dir() and (folder / "config.json").exists():
        raise WorkbenchError(f"{folder} already holds a model; choose an empty or new folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(str(folder))
        if tokenizer is not None:
            tokenizer.save_pretrained(str(folder))
    except OSError as error:
        raise WorkbenchError(f"Saving to {folder} failed: {error.strerror or error}") from error
    return folder
