"""Exact resume: a run stopped and resumed twice trains on the same batches with the same dropout
masks as the run that was never interrupted, across epoch boundaries (issue 19 item 2)."""

from __future__ import annotations

import json

import pytest

from tests.training.helpers import run_child
from workbench.core.runs import protocol
from workbench.training import checkpoints
from workbench.training.loop import STOP_AT_ENV, LoopState

# 100 rows in batches of 16: 7 batches an epoch, so 16 steps cross two epoch boundaries.
TOTAL_STEPS = 16
STOPS = (5, 11)  # mid-epoch 0 and mid-epoch 1 (after a boundary crossed in a resumed process)


def resume_spec(spec: dict) -> dict:
    spec["data"]["max_train_samples"] = 100
    spec["training"].update(
        max_steps=TOTAL_STEPS, logging_steps=1, save_steps=0, metrics=[], eval_strategy="no", learning_rate=1e-3
    )
    spec["monitor"].update(system_sample_interval_s=0, loss_spike_factor=0)
    return spec


def step_losses(run_dir) -> dict[int, float]:
    steps = [e for e in protocol.read_events(run_dir / "events.jsonl") if isinstance(e, protocol.Step)]
    return {step.step: step.loss for step in steps}


@pytest.mark.slow
def test_stopped_and_resumed_run_has_the_uninterrupted_runs_losses_at_every_step(tiny_spec, tmp_path):
    spec = resume_spec(tiny_spec)
    straight = tmp_path / "straight"
    result = run_child(spec, straight)
    assert result.returncode == 0, result.stderr[-3000:]
    expected = step_losses(straight)
    assert sorted(expected) == list(range(1, TOTAL_STEPS + 1))

    resumed = tmp_path / "resumed"
    for index, stop in enumerate(STOPS):
        result = run_child(spec, resumed, resume=index > 0, env={STOP_AT_ENV: str(stop)})
        assert result.returncode == 0, result.stderr[-3000:]
        assert json.loads((resumed / "summary.json").read_text())["status"] == "stopped"
    result = run_child(spec, resumed, resume=True)
    assert result.returncode == 0, result.stderr[-3000:]

    events = protocol.read_events(resumed / "events.jsonl")
    starts = [e.resumed_from_step for e in events if isinstance(e, protocol.RunStarted)]
    assert starts == [None, *STOPS]
    steps = [e.step for e in events if isinstance(e, protocol.Step)]
    assert steps == list(range(1, TOTAL_STEPS + 1)), "no step repeated or missing"
    got = step_losses(resumed)
    differing = {step: (expected[step], got[step]) for step in expected if abs(expected[step] - got[step]) > 1e-6}
    assert not differing, f"steps whose loss differs from the uninterrupted run: {differing}"
    assert isinstance(events[-1], protocol.Finished) and events[-1].status == "finished"


def test_the_resume_position_is_the_next_batch_not_the_start():
    state = LoopState.from_dict({"global_step": 11, "epoch": 1, "batch_in_epoch": 4, "unknown_key": 1})
    assert state.next_position(7) == (1, 4)
    assert LoopState(global_step=7, epoch=0, batch_in_epoch=7).next_position(7) == (1, 0)
    assert LoopState().next_position(7) == (0, 0)


def test_a_checkpoint_without_its_state_file_is_never_resumed_from(tmp_path):
    complete = checkpoints.temporary_folder(tmp_path, 10)
    checkpoints.commit(complete, LoopState(global_step=10).to_dict())
    broken = tmp_path / "checkpoints" / "checkpoint-20"
    broken.mkdir()
    (broken / "model.safetensors").write_text("weights without the loop state")
    assert checkpoints.latest_checkpoint(tmp_path) == tmp_path / "checkpoints" / "checkpoint-10"
    assert [step for step, _ in checkpoints.checkpoints(tmp_path)] == [10]
    assert checkpoints.read_state(checkpoints.latest_checkpoint(tmp_path))["global_step"] == 10
