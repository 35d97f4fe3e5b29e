"""Watching the loss: non-finite values and spikes (pure logic, tested without a model)."""

from __future__ import annotations

import errno
import math
import shutil
from collections import deque
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LossVerdict:
    kind: str | None = None  # None, "nan_loss", "inf_loss", "loss_spike"
    message: str = ""


class LossWatch:
    """Classifies each logged loss against the recent ones.

    A spike is a finite loss above `spike_factor` x the mean of the last `window` losses
    (after `warmup` values, since early losses move a lot).
    """

    def __init__(self, spike_factor: float = 3.0, window: int = 10, warmup: int = 5) -> None:
        self.spike_factor = spike_factor
        self.recent: deque[float] = deque(maxlen=window)
        self.warmup = warmup

    def check(self, loss: float) -> LossVerdict:
        if math.isnan(loss):
            return LossVerdict("nan_loss", "The loss is NaN")
        if math.isinf(loss):
            return LossVerdict("inf_loss", "The loss is infinite")
        verdict = LossVerdict()
        if self.spike_factor and len(self.recent) >= self.warmup:
            average = sum(self.recent) / len(self.recent)
            if average > 0 and loss > self.spike_factor * average:
                verdict = LossVerdict(
                    "loss_spike",
                    f"The loss jumped to {loss:.4g}, {loss / average:.1f}x its recent average {average:.4g}",
                )
        self.recent.append(loss)
        return verdict


OOM_SUGGESTION = (
    "The GPU ran out of memory. Try a smaller training.per_device_train_batch_size (and raise"
    " training.gradient_accumulation_steps to keep the effective batch), a shorter data.max_length,"
    ' training.mixed_precision = "bf16", or training.group_by_length = true.'
)


def is_out_of_memory(error: BaseException) -> bool:
    name = type(error).__name__
    text = str(error).lower()
    return name == "OutOfMemoryError" or "out of memory" in text or "cuda error: out of memory" in text


DISK_FULL_SUGGESTION = (
    "Free space on that disk, or move the runs directory (settings runs_dir / WORKBENCH_RUNS_DIR),"
    " and keep fewer checkpoints (training.save_total_limit); then resume the run."
)


def is_disk_full(error: BaseException | None) -> bool:
    """ENOSPC anywhere in the chain (torch's writer wraps it in a RuntimeError that names it)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "no space left on device" in str(error).lower():
            return True
        error = error.__cause__ or error.__context__
    return False


def disk_full_message(folder: Path) -> str:
    """ "No space left on device" with the free space and the folder."""
    try:
        free = shutil.disk_usage(folder).free
        left = f"{free / 2**20:.0f} MiB free" if free < 2**30 else f"{free / 2**30:.1f} GiB free"
    except OSError:
        left = "free space unknown"
    return f"No space left on device: {left} on the disk of {folder}"


def suggestion_for(error: BaseException) -> str | None:
    if is_out_of_memory(error):
        return OOM_SUGGESTION
    if is_disk_full(error):
        return DISK_FULL_SUGGESTION
    return None
