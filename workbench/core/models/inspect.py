"""Read a checkpoint folder without loading its weights: config.json, weight headers, tokenizer files."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.errors import WorkbenchError

SAFETENSORS_FILES = ("model.safetensors", "model.safetensors.index.json")
PICKLE_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json")
# Bytes per element for the dtypes safetensors headers name.
DTYPE_BYTES = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
}
# What we call a shape field -> the names config.json files use for it, across families
# (BERT, GPT-2, T5, Llama...). Read from the JSON so the summary needs no transformers import.
SHAPE_FIELDS = {
    "layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "hidden size": ("hidden_size", "n_embd", "d_model"),
    "attention heads": ("num_attention_heads", "n_head", "num_heads"),
    "vocab size": ("vocab_size",),
    "max positions": ("max_position_embeddings", "n_positions", "n_ctx"),
}


@dataclass
class WeightsSummary:
    format: str  # "safetensors", "pickle" or "none"
    files: list[Path] = field(default_factory=list)
    size_bytes: int = 0
    # Tensor name -> (dtype, shape); empty for pickle weights (reading them means unpickling).
    tensors: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)

    @property
    def parameter_count(self) -> int:
        return sum(_numel(shape) for _, shape in self.tensors.values())

    @property
    def dtype(self) -> str:
        """The dtype holding most parameters ("" when unknown)."""
        counts: dict[str, int] = {}
        for dtype, shape in self.tensors.values():
            counts[dtype] = counts.get(dtype, 0) + _numel(shape)
        return max(counts, key=counts.get) if counts else ""


@dataclass
class CheckpointInfo:
    path: Path
    name: str  # what the UI shows: never a temporary path
    config: dict
    weights: WeightsSummary
    tokenizer_class: str = ""
    tokenizer_fast: bool = False
    # None until `check_architecture` asked transformers (which is slow to import).
    known_architecture: bool | None = None
    needs_remote_code: bool = False
    warnings: list[str] = field(default_factory=list)
    adapter: Path | None = None  # a peft (LoRA) adapter folder loaded over this base (models.loading)

    @property
    def model_type(self) -> str:
        return str(self.config.get("model_type", ""))

    @property
    def architectures(self) -> list[str]:
        return list(self.config.get("architectures") or [])

    @property
    def shape(self) -> dict[str, int | None]:
        """Layers, hidden size, heads, vocab size, max positions (a nested text_config counts too)."""
        sources = [self.config, self.config.get("text_config") or {}]
        values: dict[str, int | None] = {}
        for label, names in SHAPE_FIELDS.items():
            values[label] = next(
                (source[name] for source in sources for name in names if isinstance(source.get(name), int)), None
            )
        return values

    @property
    def dtype(self) -> str:
        if self.weights.dtype:
            return self.weights.dtype
        return str(self.config.get("dtype") or self.config.get("torch_dtype") or "")

    @property
    def id2label(self) -> dict[int, str]:
        raw = self.config.get("id2label") or {}
        return {int(key): str(value) for key, value in raw.items()}

    def summary(self) -> dict:
        """A JSON-able summary (what `workbench model info --json` prints)."""
        return {
            "name": self.name,
            "path": str(self.path),
            "model_type": self.model_type,
            "architectures": self.architectures,
            **{label.replace(" ", "_"): value for label, value in self.shape.items()},
            "dtype": self.dtype,
            "weight_format": self.weights.format,
            "weight_files": [file.name for file in self.weights.files],
            "size_on_disk": self.weights.size_bytes,
            "parameters_in_checkpoint": self.weights.parameter_count or None,
            "tokenizer_class": self.tokenizer_class,
            "tokenizer_fast": self.tokenizer_fast,
            "needs_remote_code": self.needs_remote_code,
            "id2label": {str(key): value for key, value in self.id2label.items()},
            "warnings": list(self.warnings),
        }


def _numel(shape: tuple[int, ...]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def read_config(folder: Path) -> dict:
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise WorkbenchError(
            f"{folder} has no config.json, so it is not a transformers checkpoint.",
            hint="Pick the folder that holds config.json (for a run, its final/ folder).",
        )
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise WorkbenchError(f"{config_file} is not UTF-8 text: {error}") from error
    except json.JSONDecodeError as error:
        raise WorkbenchError(
            f"{config_file}: line {error.lineno}, column {error.colno}: not valid JSON ({error.msg}).",
            hint="Fix or replace the file; the weights were not read.",
        ) from error
    if not isinstance(config, dict):
        raise WorkbenchError(f"{config_file}: expected a JSON object, found {type(config).__name__}.")
    return config


def read_safetensors_header(file: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Tensor name -> (dtype, shape) from the JSON header at the start of a .safetensors file.

    Also checks that the file holds all the tensor data the header describes: a file cut short
    (an interrupted download or copy) is a clear error here, not a traceback when it is loaded.
    """
    try:
        size = file.stat().st_size
        with file.open("rb") as handle:
            prefix = handle.read(8)
            if len(prefix) < 8:
                raise WorkbenchError(f"{file} is truncated: {len(prefix)} bytes, no safetensors header.")
            (length,) = struct.unpack("<Q", prefix)
            if length > 100 * 2**20 or length > size:
                raise WorkbenchError(f"{file} is not a safetensors file (header length {length} is impossible).")
            header = json.loads(handle.read(length))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise WorkbenchError(f"{file}: the safetensors header is not valid JSON ({error}).") from error
    except OSError as error:
        raise WorkbenchError(f"{file} cannot be read: {error.strerror or error}.") from error
    try:
        entries = {name: entry for name, entry in header.items() if name != "__metadata__"}
        tensors = {name: (str(e["dtype"]), tuple(int(n) for n in e["shape"])) for name, e in entries.items()}
        data_end = max((int(entry["data_offsets"][1]) for entry in entries.values()), default=0)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as error:
        raise WorkbenchError(
            f"{file}: the safetensors header is malformed ({type(error).__name__}: {error})."
        ) from None
    if 8 + length + data_end > size:
        raise WorkbenchError(
            f"{file} is truncated: its header describes {data_end:,} bytes of tensor data,"
            f" but only {max(size - 8 - length, 0):,} are there; download or copy the checkpoint again."
        )
    return tensors


def summarise_weights(folder: Path) -> WeightsSummary:
    index = folder / "model.safetensors.index.json"
    single = folder / "model.safetensors"
    if single.is_file() or index.is_file():
        files = [single] if single.is_file() else _shards(index)
        tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
        for file in files:
            tensors.update(read_safetensors_header(file))
        return WeightsSummary("safetensors", files, sum(file.stat().st_size for file in files), tensors)
    pickle_single = folder / "pytorch_model.bin"
    pickle_index = folder / "pytorch_model.bin.index.json"
    if pickle_single.is_file() or pickle_index.is_file():
        files = [pickle_single] if pickle_single.is_file() else _shards(pickle_index)
        return WeightsSummary("pickle", files, sum(file.stat().st_size for file in files))
    return WeightsSummary("none")


def _shards(index: Path) -> list[Path]:
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
    except (json.JSONDecodeError, KeyError, UnicodeDecodeError) as error:
        raise WorkbenchError(f"{index}: not a valid weight index ({error}).") from error
    files = [index.parent / name for name in sorted(set(weight_map.values()))]
    missing = [file.name for file in files if not file.is_file()]
    if missing:
        raise WorkbenchError(f"{index} names shards that are missing: {', '.join(missing)}.")
    return files


def _tokenizer_details(folder: Path) -> tuple[str, bool]:
    fast = (folder / "tokenizer.json").is_file()
    tokenizer_config = folder / "tokenizer_config.json"
    name = ""
    if tokenizer_config.is_file():
        try:
            name = str(json.loads(tokenizer_config.read_text(encoding="utf-8")).get("tokenizer_class") or "")
        except (json.JSONDecodeError, UnicodeDecodeError):
            name = "(unreadable tokenizer_config.json)"
    if not name and not fast and not any((folder / f).is_file() for f in ("vocab.txt", "vocab.json", "spiece.model")):
        return "", False
    return name or ("PreTrainedTokenizerFast" if fast else "unknown"), fast


def known_model_types() -> set[str]:
    from workbench.core.lazy_imports import transformers_module

    return set(transformers_module().models.auto.configuration_auto.CONFIG_MAPPING_NAMES)


def inspect_checkpoint(folder: Path | str, name: str | None = None, *, check: bool = True) -> CheckpointInfo:
    """Everything the Models pane shows about a checkpoint, without reading the weights' data.

    With check=False transformers is not imported (the pane paints this at once, then runs
    `check_architecture` in a worker).
    """
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise WorkbenchError(f"{folder} does not exist.", hint="Check the path, or pick a model from the list.")
    if not folder.is_dir():
        raise WorkbenchError(f"{folder} is a file; a checkpoint is a folder with config.json and weights.")
    if (folder / "adapter_config.json").is_file() and not (folder / "config.json").is_file():
        from workbench.core.models.loading import inspect_adapter  # its base, with the adapter on top

        return inspect_adapter(folder, name, check=check)
    config = read_config(folder)
    weights = summarise_weights(folder)
    tokenizer_class, tokenizer_fast = _tokenizer_details(folder)
    info = CheckpointInfo(
        path=folder,
        name=name or folder.name,
        config=config,
        weights=weights,
        tokenizer_class=tokenizer_class,
        tokenizer_fast=tokenizer_fast,
    )
    if not config.get("model_type"):
        raise WorkbenchError(f"{folder / 'config.json'} has no model_type field, so the architecture is unknown.")
    if weights.format == "pickle":
        info.warnings.append(
            "Weights are in pickle format (pytorch_model.bin): unpickling can run code."
            " They are loaded only if you allow it; prefer safetensors."
        )
    elif weights.format == "none":
        info.warnings.append("No weights found (model.safetensors or pytorch_model.bin): only the config can be used.")
    if not tokenizer_class:
        info.warnings.append("No tokenizer files in this folder.")
    if check:
        check_architecture(info)
    return info


def check_architecture(info: CheckpointInfo) -> CheckpointInfo:
    """Does transformers implement this model_type, or does the checkpoint bring its own code?"""
    if info.known_architecture is not None:
        return info
    model_type = info.model_type
    info.known_architecture = model_type in known_model_types()
    if not info.known_architecture:
        if info.config.get("auto_map"):
            info.needs_remote_code = True
            info.warnings.insert(
                0,
                f"model_type {model_type!r} is not built into transformers: this checkpoint ships its own Python"
                " code (auto_map) and loads only if you opt in to trust_remote_code for it.",
            )
        else:
            info.warnings.insert(
                0,
                f"Unknown architecture: model_type {model_type!r} is not in transformers"
                " and the checkpoint ships no code for it.",
            )
    elif info.config.get("auto_map"):
        info.warnings.append("The checkpoint also ships custom code (auto_map); it is not used unless you trust it.")
    return info
