"""training.report_to in a real child: TensorBoard gets what the run folder gets; a missing tracker is an alert."""

from __future__ import annotations

import pytest

from tests.training.helpers import run_child
from workbench.core.runs import protocol

pytestmark = pytest.mark.slow


def test_a_run_mirrors_its_steps_and_evaluations_to_tensorboard(tiny_spec, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tiny_spec["training"].update(max_steps=8, logging_steps=2, save_steps=0, report_to=["tensorboard"])
    tiny_spec["monitor"]["system_sample_interval_s"] = 0
    run_dir = tmp_path / "mirrored"
    result = run_child(tiny_spec, run_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    events = protocol.read_events(run_dir / "events.jsonl")
    assert isinstance(events[-1], protocol.Finished)  # the mirror closes before the run's last line
    steps = {e.step: e.loss for e in events if isinstance(e, protocol.Step)}
    accumulator = EventAccumulator(str(run_dir / "tensorboard"))
    accumulator.Reload()
    losses = {scalar.step: scalar.value for scalar in accumulator.Scalars("train/loss")}
    assert losses.keys() == steps.keys()
    assert all(abs(losses[step] - steps[step]) < 1e-6 for step in steps)
    evaluations = [e for e in events if isinstance(e, protocol.Evaluation)]
    assert evaluations and "eval/eval_loss" in accumulator.Tags()["scalars"]


def test_a_bad_tracker_name_is_refused_before_the_run(tiny_spec):
    from workbench.training.spec import validate_spec

    tiny_spec["training"]["report_to"] = ["tensorbored"]
    errors = validate_spec(tiny_spec, check_files=False)
    assert [e.field for e in errors] == ["training.report_to"]
    assert "tensorbored" in str(errors[0])
