"""How much memory a run will need, against what is free where it will train (no torch, no textual).

Parameters are counted exactly from the safetensors headers (no weights are read); the rest is the
usual rule of thumb for AdamW fine-tuning: weights + gradients + two Adam moments in fp32
(16 bytes a parameter, plus a 2-byte copy under mixed precision) and transformer activations per
layer of about batch x seq x (34 x hidden + 5 x heads x seq) bytes at 16-bit (twice that in fp32).

With LoRA (`model.lora.r > 0`) only the adapter (and the head peft keeps trainable) has gradients and
Adam moments: frozen weights cost their 4 bytes (plus the 2-byte copy under mixed precision), the
trainable ones 16. Those counts are exact: the task's model is built from its config on the meta
device and the adapter put on it as the run does (`lora.planned_counts`), which imports torch and peft
(seconds, the first time), so it is cached per model, task, labels and LoRA table.
"""

from __future__ import annotations

import json
import math
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

from workbench.core.errors import WorkbenchError
from workbench.core.tasks import lora

GIB = 1024**3
CUDA_CONTEXT_BYTES = 600 * 1024**2


@dataclass
class MemoryEstimate:
    need_bytes: int | None
    free_bytes: int | None
    where: str  # "GPU 0 (NVIDIA H200)" or "CPU RAM"
    detail: str
    params: int | None = None
    lora: str = ""  # with LoRA on: "LoRA r=8: 74,498 of 22,788,484 parameters trainable (0.33%)", or why not
    lora_counts: lora.Counts | None = None

    @property
    def fraction(self) -> float | None:
        if self.need_bytes is None or not self.free_bytes:
            return None
        return self.need_bytes / self.free_bytes


def resolve_model_dir(name_or_path: str) -> Path | None:
    if name_or_path in ("", "embedded"):
        from workbench.core.embedded import embedded_model_path

        return embedded_model_path()
    path = Path(name_or_path).expanduser()
    return path if path.is_dir() else None


def count_parameters(model_dir: Path) -> int | None:
    """Sum of tensor sizes in the folder's safetensors files, read from their JSON headers only."""
    total = 0
    files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        return None
    for file in files:
        try:
            with open(file, "rb") as handle:
                (length,) = struct.unpack("<Q", handle.read(8))
                header = json.loads(handle.read(length))
        except (OSError, ValueError, struct.error):
            return None
        for name, tensor in header.items():
            if name != "__metadata__":
                total += math.prod(tensor.get("shape", []))
    return total


def free_memory(use_cpu: bool) -> tuple[int | None, str]:
    """Free bytes on GPU 0 (through NVML) or, on a CPU run, available RAM."""
    if not use_cpu:
        try:
            import pynvml

            pynvml.nvmlInit()
            try:
                if pynvml.nvmlDeviceGetCount() > 0:
                    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
                    name = pynvml.nvmlDeviceGetName(handle)
                    name = name.decode() if isinstance(name, bytes) else name
                    return int(pynvml.nvmlDeviceGetMemoryInfo(handle).free), f"GPU 0 ({name})"
            finally:
                pynvml.nvmlShutdown()
        except Exception:  # no NVML library or no driver: this machine trains on the CPU  # noqa: BLE001
            pass
    import psutil

    return int(psutil.virtual_memory().available), "CPU RAM"


_LORA_CACHE: dict[str, lora.Counts | str] = {}
_LORA_CACHE_LOCK = threading.Lock()
LORA_CACHE_SIZE = 64
LORA_COUNTING = "counting the trainable parameters…"


def _lora_key(spec: dict, model_path: str) -> str:
    model = spec.get("model") or {}
    labels = lora.spec_head_labels(spec)
    return json.dumps(
        [model_path, model.get("head"), labels.num_labels, labels.regression, bool(model.get("from_config")),
         model.get("lora")],
        sort_keys=True,
        default=str,
    )  # fmt: skip


def lora_model_path(name_or_path: str) -> str | None:
    """The folder the run's model config is read from: a local folder, the embedded model, or a Hub
    model's snapshot in the cache; None when it is not on this machine (no download here)."""
    model_dir = resolve_model_dir(name_or_path)
    if model_dir is not None:
        return str(model_dir)
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(name_or_path, "config.json")
    except ValueError:  # not a repo id
        return None
    return str(Path(cached).parent) if isinstance(cached, str) else None


def lora_counted(spec: dict) -> bool:
    """Whether `lora_counts` answers at once (LoRA off, or this table counted before)."""
    model = spec.get("model") or {}
    if not lora.enabled(model.get("lora")):
        return True
    model_path = lora_model_path(str(model.get("name_or_path", "")))
    if model_path is None:
        return True
    with _LORA_CACHE_LOCK:
        return _lora_key(spec, model_path) in _LORA_CACHE


def lora_counts(spec: dict) -> lora.Counts | str | None:
    """The run's trainable and total parameter counts with LoRA on (`lora.planned_counts`, cached), the
    message of what the run would refuse, or None with LoRA off."""
    model = spec.get("model") or {}
    if not lora.enabled(model.get("lora")):
        return None
    model_path = lora_model_path(str(model.get("name_or_path", "")))
    if model_path is None:
        return "the model is not on this machine: the run counts them once it has downloaded it"
    key = _lora_key(spec, model_path)
    with _LORA_CACHE_LOCK:
        if key in _LORA_CACHE:
            return _LORA_CACHE[key]
    try:
        answer: lora.Counts | str = lora.planned_counts(spec, model_path)
    except WorkbenchError as error:
        answer = str(error)  # the message and its hint (the model's Linear modules, …)
    except Exception as error:  # noqa: BLE001 - a model peft or transformers cannot build: say so, no traceback
        first = (str(error).splitlines() or [""])[0]
        answer = f"cannot count them for this model ({type(error).__name__}: {first})"
    with _LORA_CACHE_LOCK:
        if len(_LORA_CACHE) >= LORA_CACHE_SIZE:
            _LORA_CACHE.pop(next(iter(_LORA_CACHE)))
        _LORA_CACHE[key] = answer
    return answer


def lora_line(spec: dict, counts: lora.Counts | str | None) -> str:
    if counts is None:
        return ""
    r = (spec.get("model") or {}).get("lora", {}).get("r")
    if isinstance(counts, str):
        return f"LoRA r={r}: {counts}"
    return f"LoRA r={r}: {counts.describe()}"


def estimate_memory(spec: dict, *, count_lora: bool = True) -> MemoryEstimate:
    """The estimate for `spec`; with LoRA on, its parameter counts too (`count_lora=False`: a quick
    estimate that says they are being counted)."""
    model = spec.get("model", {})
    data = spec.get("data", {})
    training = spec.get("training", {})
    free, where = free_memory(bool(training.get("use_cpu")))
    counts: lora.Counts | str | None = None
    if lora.enabled(model.get("lora")):
        counts = lora_counts(spec) if count_lora else LORA_COUNTING
    line = lora_line(spec, counts)
    trainable = counts if isinstance(counts, lora.Counts) else None
    model_dir = resolve_model_dir(str(model.get("name_or_path", "")))
    if model_dir is None:
        return MemoryEstimate(
            None, free, where, "model not on this machine: cannot count its parameters", None, line, trainable
        )
    params = trainable.total if trainable else count_parameters(model_dir)
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    if params is None:
        return MemoryEstimate(None, free, where, "no safetensors weights to count parameters from", None, line)
    mixed = training.get("mixed_precision", "no") in ("fp16", "bf16")
    weight_bytes = params * (4 + (2 if mixed else 0))
    trained = trainable.trainable if trainable else params
    training_bytes = trained * 12  # fp32 gradients and the two AdamW moments
    optimizer_bytes = weight_bytes + training_bytes
    batch = int(training.get("per_device_train_batch_size") or 1)
    seq = int(data.get("max_length") or 128)
    hidden = int(config.get("hidden_size") or config.get("d_model") or 768)
    layers = int(config.get("num_hidden_layers") or config.get("n_layers") or 12)
    heads = int(config.get("num_attention_heads") or config.get("n_heads") or 12)
    activation_bytes = layers * batch * seq * (34 * hidden + 5 * heads * seq) * (1 if mixed else 2)
    need = int((optimizer_bytes + activation_bytes) * 1.1) + (CUDA_CONTEXT_BYTES if where.startswith("GPU") else 0)
    activations = f"activations ≈{activation_bytes / GIB:.2f} GiB (batch {batch} × {seq} tokens)"
    if trainable:
        detail = (
            f"{params / 1e6:.1f}M parameters, {trained:,} trained: weights {weight_bytes / GIB:.2f} GiB,"
            f" grads+AdamW {training_bytes / GIB:.3f} GiB, {activations}"
        )
    else:
        detail = f"{params / 1e6:.1f}M parameters: weights+grads+AdamW {optimizer_bytes / GIB:.2f} GiB, {activations}"
    return MemoryEstimate(need, free, where, detail, params, line, trainable)
