"""The learning-rate schedules of `training.lr_scheduler_type`, as transformers' `get_scheduler` makes them.

The same LambdaLR factors (transformers 5's `optimization.py`, as `functools.partial`s of module
functions, so a checkpoint's scheduler state has the same form), without importing
`transformers.optimization`: that module imports `trainer_utils`, which imports peft when it is
installed, and with it much of transformers' training stack, before the first step of every run.
`tests/training/test_schedules.py` checks every schedule against transformers' own.
"""

from __future__ import annotations

import math
from functools import partial


def _warmup(current_step: int, num_warmup_steps: int) -> float:
    return float(current_step) / float(max(1, num_warmup_steps))


def _constant(current_step: int) -> float:
    return 1.0


def _constant_with_warmup(current_step: int, *, num_warmup_steps: int) -> float:
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1.0, num_warmup_steps))
    return 1.0


def _linear(current_step: int, *, num_warmup_steps: int, num_training_steps: int) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))


def _cosine(current_step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: float) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))


def _cosine_with_restarts(
    current_step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: int
) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    if progress >= 1.0:
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(num_cycles) * progress) % 1.0))))


def _polynomial(
    current_step: int, *, num_warmup_steps: int, num_training_steps: int, lr_end: float, power: float, lr_init: float
) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    if current_step > num_training_steps:
        return lr_end / lr_init
    decay_steps = max(1, num_training_steps - num_warmup_steps)  # transformers divides by 0 here
    remaining = 1 - (current_step - num_warmup_steps) / decay_steps
    return ((lr_init - lr_end) * remaining**power + lr_end) / lr_init


def get_scheduler(name: str, optimizer, num_warmup_steps: int, num_training_steps: int):
    """A `torch.optim.lr_scheduler.LambdaLR` for `name` (a `spec.SCHEDULERS` value), with transformers'
    defaults: cosine over half a cycle, one hard restart, polynomial to 1e-7 at power 1."""
    from torch.optim.lr_scheduler import LambdaLR

    steps = {"num_warmup_steps": num_warmup_steps, "num_training_steps": num_training_steps}
    if name == "constant":
        factor = partial(_constant)
    elif name == "constant_with_warmup":
        factor = partial(_constant_with_warmup, num_warmup_steps=num_warmup_steps)
    elif name == "linear":
        factor = partial(_linear, **steps)
    elif name == "cosine":
        factor = partial(_cosine, **steps, num_cycles=0.5)
    elif name == "cosine_with_restarts":
        factor = partial(_cosine_with_restarts, **steps, num_cycles=1)
    elif name == "polynomial":
        lr_init, lr_end = optimizer.defaults["lr"], 1e-7
        if not lr_init > lr_end:
            raise ValueError(f"lr_end ({lr_end}) must be smaller than the initial lr ({lr_init})")
        factor = partial(_polynomial, **steps, lr_end=lr_end, power=1.0, lr_init=lr_init)
    else:
        raise ValueError(f"unknown learning-rate schedule {name!r}")
    return LambdaLR(optimizer, factor, -1)
