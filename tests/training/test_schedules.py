"""The engine's learning-rate schedules equal transformers' `get_scheduler`, step by step."""

from __future__ import annotations

import pytest

from workbench.training.schedules import get_scheduler
from workbench.training.spec import SCHEDULERS


def _rates(make, steps: int) -> list[float]:
    import torch

    parameter = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.AdamW([parameter], lr=3e-4)
    scheduler = make(optimizer)
    rates = []
    for _ in range(steps):
        rates.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    return rates, scheduler


@pytest.mark.parametrize("name", SCHEDULERS)
@pytest.mark.parametrize(("warmup", "total"), [(0, 40), (7, 40), (5, 5)])
def test_every_schedule_matches_transformers(name, warmup, total):
    from transformers import get_scheduler as transformers_scheduler

    ours, scheduler = _rates(lambda o: get_scheduler(name, o, warmup, total), total + 3)
    try:
        theirs, reference = _rates(lambda o: transformers_scheduler(name, o, warmup, total), total + 3)
    except ZeroDivisionError:  # transformers' polynomial schedule when all steps are warm-up
        assert name == "polynomial" and warmup == total
        assert ours[:warmup] == [3e-4 * step / warmup for step in range(warmup)]
        return
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15)
    # A checkpoint's scheduler state has the same keys either way (resuming older runs).
    assert set(scheduler.state_dict()) == set(reference.state_dict())


def test_an_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="unknown"):
        _rates(lambda o: get_scheduler("triangle", o, 0, 10), 1)
