"""How much memory a run will need, against what is free where it will train (no torch, no textual).

Parameters are counted exactly from the safetensors headers (no weights are read); the rest is the
usual rule of thumb for AdamW fine-tuning: weights + gradients + two Adam moments in fp32
(16 bytes a parameter, plus a 2-byte copy under mixed precision) and transformer activations per
layer of about batch x seq x (34 x hidden + 5 x heads x seq) bytes at 16-bit (twice that in fp32).
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

GIB = 1024**3
CUDA_CONTEXT_BYTES = 600 * 1024**2


@dataclass
class MemoryEstimate:
    need_bytes: int | None
    free_bytes: int | None
    where: str  # "GPU 0 (NVIDIA H200)" or "CPU RAM"
    detail: str
    params: int | None = None

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


def estimate_memory(spec: dict) -> MemoryEstimate:
    model = spec.get("model", {})
    data = spec.get("data", {})
    training = spec.get("training", {})
    free, where = free_memory(bool(training.get("use_cpu")))
    model_dir = resolve_model_dir(str(model.get("name_or_path", "")))
    if model_dir is None:
        return MemoryEstimate(None, free, where, "model not on this machine: cannot count its parameters")
    params = count_parameters(model_dir)
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    if params is None:
        return MemoryEstimate(None, free, where, "no safetensors weights to count parameters from")
    mixed = training.get("mixed_precision", "no") in ("fp16", "bf16")
    optimizer_bytes = params * (16 + (2 if mixed else 0))
    batch = int(training.get("per_device_train_batch_size") or 1)
    seq = int(data.get("max_length") or 128)
    hidden = int(config.get("hidden_size") or config.get("d_model") or 768)
    layers = int(config.get("num_hidden_layers") or config.get("n_layers") or 12)
    heads = int(config.get("num_attention_heads") or config.get("n_heads") or 12)
    activation_bytes = layers * batch * seq * (34 * hidden + 5 * heads * seq) * (1 if mixed else 2)
    need = int((optimizer_bytes + activation_bytes) * 1.1) + (CUDA_CONTEXT_BYTES if where.startswith("GPU") else 0)
    detail = (
        f"{params / 1e6:.1f}M parameters: weights+grads+AdamW {optimizer_bytes / GIB:.2f} GiB,"
        f" activations ≈{activation_bytes / GIB:.2f} GiB (batch {batch} × {seq} tokens)"
    )
    return MemoryEstimate(need, free, where, detail, params)
