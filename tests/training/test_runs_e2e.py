"""End to end: real `accelerate launch` children training a tiny BERT on a few hundred rows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.training.helpers import dump_log, wait_for_end, wait_until
from workbench.core.errors import WorkbenchError
from workbench.core.runs import protocol
from workbench.training import runs
from workbench.training.spec import SpecError, dump_spec

pytestmark = pytest.mark.slow


def strict_events(run_dir) -> list[protocol.Event]:
    """Every line decodes to a known record of the current protocol version."""
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    events = [protocol.decode(line) for line in lines]
    assert all(json.loads(line)["v"] == protocol.PROTOCOL_VERSION for line in lines)
    assert not any(isinstance(event, protocol.UnknownEvent) for event in events)
    return events


def of_type(events, cls):
    return [event for event in events if isinstance(event, cls)]


def first_step_logged(run_dir, at_least: int = 1):
    def logged():
        steps = of_type(protocol.read_events(run_dir / "events.jsonl"), protocol.Step)
        return steps if steps and steps[-1].step >= at_least else None

    return logged


def test_detached_cli_run_finishes_after_the_launcher_exits(tiny_spec, tmp_path):
    """`workbench train --detach` returns at once; the run carries on to the end on its own."""
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(dump_spec(tiny_spec), encoding="utf-8")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "train", str(spec_path), "--detach", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30  # no torch in the launching process
    record = json.loads(result.stdout)
    run_dir = runs.Path(record["path"])
    assert record["status"] in ("starting", "running")

    info = wait_for_end(run_dir)
    assert info.status == "finished", dump_log(run_dir)
    assert info.step == 12 and info.total_steps == 12 and info.best_metric[0] == "accuracy"

    events = strict_events(run_dir)
    started_events = of_type(events, protocol.RunStarted)
    assert len(started_events) == 1 and started_events[0].total_steps == 12
    assert started_events[0].versions["torch"] and started_events[0].devices[0]["type"] == "cpu"
    steps = of_type(events, protocol.Step)
    assert [s.step for s in steps] == [2, 4, 6, 8, 10, 12]
    assert all(s.loss > 0 and s.learning_rate >= 0 and s.samples_per_s > 0 and s.tokens_per_s > 0 for s in steps)
    assert steps[0].grad_norm is not None
    assert [s.learning_rate for s in steps] == sorted((s.learning_rate for s in steps), reverse=True)
    evaluation = of_type(events, protocol.Evaluation)[-1]
    assert set(evaluation.metrics) == {"eval_loss", "accuracy", "f1"}
    assert [c.step for c in of_type(events, protocol.CheckpointSaved)] == [6]
    system = of_type(events, protocol.SystemSample)
    assert system and system[0].rss_mb > 0
    assert isinstance(events[-1], protocol.Finished) and events[-1].status == "finished"

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps"] == 12
    assert summary["best_metric"]["name"] == "accuracy" and "accuracy" in summary["final_metrics"]
    assert summary["hyperparameters"]["learning_rate"] == 1e-3 and summary["versions"]["transformers"]

    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(run_dir / "final")
    tokenizer = AutoTokenizer.from_pretrained(run_dir / "final")
    assert model.config.id2label == {0: "neg", 1: "pos"}
    assert model(**tokenizer("a good movie", return_tensors="pt")).logits.shape == (1, 2)
    assert [info.run_id for info in runs.list_runs()] == [run_dir.name]


def quick(spec: dict, **training) -> dict:
    """No metrics (evaluate is not even imported) and no evaluation: these tests are about control."""
    spec["training"].update(metrics=[], eval_strategy="no", **training)
    return spec


def test_stop_then_resume_continues_the_step_count(tiny_spec):
    quick(tiny_spec, max_steps=200, logging_steps=1, save_steps=0)
    tiny_spec["monitor"]["system_sample_interval_s"] = 0
    info = runs.launch_run(tiny_spec)
    wait_until(first_step_logged(info.path, 2), timeout=180, interval=0.03)
    runs.stop_run(info.path)
    stopped = wait_for_end(info.path)
    assert stopped.status == "stopped", dump_log(info.path)
    events = strict_events(info.path)
    stop_step = of_type(events, protocol.Finished)[-1].summary["steps"]
    assert 2 <= stop_step < 200
    assert of_type(events, protocol.CheckpointSaved)[-1].step == stop_step

    resumed = runs.resume_run(info.path)
    assert resumed.status == "starting"
    with pytest.raises(WorkbenchError, match="still|already running"):
        runs.resume_run(info.path)
    final = wait_for_end(info.path, timeout=240)
    assert final.status == "finished", dump_log(info.path)
    events = strict_events(info.path)
    starts = of_type(events, protocol.RunStarted)
    assert [s.resumed_from_step for s in starts] == [None, stop_step]
    steps = [s.step for s in of_type(events, protocol.Step)]
    assert steps == list(range(1, 201)), "the loss curve continues where it stopped, with no gap or repeat"
    assert final.step == 200 and (info.path / "final" / "config.json").exists()


def test_killed_child_is_reported_as_crashed_with_its_log_tail(tiny_spec):
    quick(tiny_spec, max_steps=100000, logging_steps=1, save_steps=0)
    info = runs.launch_run(tiny_spec)
    wait_until(first_step_logged(info.path), timeout=180)
    child_pid = of_type(protocol.read_events(info.path / "events.jsonl"), protocol.RunStarted)[0].pid
    os.kill(child_pid, signal.SIGKILL)
    crashed = wait_for_end(info.path, timeout=60)
    assert crashed.status == "crashed"
    failure = of_type(strict_events(info.path), protocol.Failed)[-1]
    assert failure.status == "crashed" and "died without a final event" in failure.error
    assert "step " in failure.traceback  # the tail of stdout.log
    assert runs.read_run(info.path).status == "crashed"  # durable: recorded once, read the same


def test_nan_loss_triggers_the_guard(tiny_spec, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DEBUG_NAN_AT_STEP", "3")
    quick(tiny_spec, logging_steps=5)
    info = runs.launch_run(tiny_spec)
    final = wait_for_end(info.path)
    assert final.status == "failed", dump_log(info.path)
    events = strict_events(info.path)
    alerts = of_type(events, protocol.Alert)
    assert alerts, dump_log(info.path)
    alert = alerts[0]
    assert alert.kind == "nan_loss" and alert.step == 3 and "stopping" in alert.message, alerts
    failure = of_type(events, protocol.Failed)[-1]
    assert "NaN" in failure.error and "learning_rate" in (failure.suggestion or ""), (failure, dump_log(info.path))
    assert not (info.path / "final").exists()


def test_malformed_spec_lists_its_errors_and_starts_nothing(tiny_spec, tmp_path):
    tiny_spec["training"].update(learning_rate=-1, lr_scheduler_type="exponential")
    tiny_spec["data"]["train_file"] = str(tmp_path / "nowhere.csv")
    with pytest.raises(SpecError) as raised:
        runs.launch_run(tiny_spec)
    assert [e.field for e in raised.value.errors] == [
        "data.train_file",
        "training.learning_rate",
        "training.lr_scheduler_type",
    ]
    assert runs.list_runs() == []
    spec_path = tmp_path / "bad.toml"
    spec_path.write_text(dump_spec(tiny_spec))
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "train", str(spec_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "3 problem(s)" in result.stderr and "training.lr_scheduler_type" in result.stderr
    assert "Traceback" not in result.stderr
