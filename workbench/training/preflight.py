"""Checks of the model a spec names, made before launch from its small files (config.json,
tokenizer_config.json, the weight file names): nothing is loaded, so the start form can run them
on each change.

- sizes in config.json that no model can have (`num_hidden_layers = -2`);
- pickle-only weights: unpickling can run code, and training offers no opt-in (`model predict`
  asks for `--allow-pickle`); the child also loads with `use_safetensors=True`;
- `data.max_length` above the positions the model reads, which otherwise fails at step 1.
"""

from __future__ import annotations

import json
from pathlib import Path

# Sizes that must be whole numbers of 1 or more where a config has them.
POSITIVE_SIZES = (
    "num_hidden_layers",
    "hidden_size",
    "num_attention_heads",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "n_layers",
    "n_heads",
    "dim",
)
# A tokenizer's model_max_length at or above this means "not set" (transformers writes 1e30).
UNSET_LENGTH = 10_000_000


def model_folder(name: str, base_dir: Path | None = None) -> Path | None:
    """The local folder of a spec's model, or None (a Hub id, or the embedded model not installed)."""
    from workbench.core.embedded import embedded_model_path, is_embedded

    if is_embedded(name):
        try:
            return embedded_model_path()
        except ImportError:
            return None
    path = Path(name).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path if path.is_dir() else None


def read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def position_limit(config: dict, tokenizer_config: dict | None) -> int | None:
    """The most tokens the model reads: its position embeddings, or the tokenizer's
    model_max_length when smaller (RoBERTa: 514 positions, 512 tokens)."""
    limits = []
    positions = config.get("max_position_embeddings", config.get("n_positions"))
    if isinstance(positions, int) and positions > 0:
        limits.append(positions)
    length = (tokenizer_config or {}).get("model_max_length")
    if isinstance(length, (int, float)) and 0 < length < UNSET_LENGTH:
        limits.append(int(length))
    return min(limits) if limits else None


def model_problems(name: str, max_length: int | None, base_dir: Path | None = None) -> list[tuple[str, str]]:
    """(field, message) for each problem of a local model folder; [] for Hub ids."""
    folder = model_folder(name, base_dir)
    if folder is None:
        return []
    problems: list[tuple[str, str]] = []
    config = read_json(folder / "config.json")
    if config is None:
        what = "no" if not (folder / "config.json").exists() else "an unreadable"
        return [("model.name_or_path", f"{folder} has {what} config.json; it is not a transformers model folder")]
    for key in POSITIVE_SIZES:
        value = config.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            problems.append(
                ("model.name_or_path", f"{folder / 'config.json'} has {key} = {value!r}; it must be 1 or more")
            )
    hidden, heads = config.get("hidden_size"), config.get("num_attention_heads")
    if isinstance(hidden, int) and isinstance(heads, int) and hidden > 0 and heads > 0 and hidden % heads:
        problems.append(
            (
                "model.name_or_path",
                f"{folder / 'config.json'}: hidden_size {hidden} is not a multiple of num_attention_heads {heads}",
            )
        )
    names = {path.name for path in folder.iterdir()}
    safetensors = "model.safetensors" in names or "model.safetensors.index.json" in names
    pickle = "pytorch_model.bin" in names or "pytorch_model.bin.index.json" in names
    if pickle and not safetensors:
        problems.append(
            (
                "model.name_or_path",
                f"{folder} has pickle weights only (pytorch_model.bin); unpickling can run code. Convert them to"
                " safetensors if you trust the source (`save_pretrained` writes safetensors), then train",
            )
        )
    elif not safetensors:
        problems.append(("model.name_or_path", f"{folder} has no weights (no model.safetensors)"))
    limit = position_limit(config, read_json(folder / "tokenizer_config.json"))
    if limit is not None and isinstance(max_length, int) and max_length > limit:
        problems.append(
            ("data.max_length", f"is {max_length} but the model reads at most {limit} tokens; use {limit} or less")
        )
    return problems


def check_loaded(model, tokenizer, max_length: int) -> None:
    """The same position check on the loaded model (Hub models are checked only here, before step 1)."""
    from workbench.core.errors import WorkbenchError

    length = getattr(tokenizer, "model_max_length", None)
    limit = position_limit(model.config.to_dict(), {"model_max_length": length} if length else None)
    if limit is not None and max_length > limit:
        raise WorkbenchError(
            f"data.max_length: is {max_length} but {model.config.name_or_path or 'the model'} reads at most"
            f" {limit} tokens; use {limit} or less"
        )
