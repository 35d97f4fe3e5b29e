"""Mirroring a run's events to TensorBoard, trackio and wandb; read back with each tracker's own reader."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.core.runs.protocol import Alert, Evaluation, Step, SystemSample
from workbench.training.trackers import TrackerMirror, parse_report_to, scalars

REPO = Path(__file__).resolve().parents[2]


def _accumulator(log_dir: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    files = list(Path(log_dir).glob("events.out.tfevents.*"))
    assert len(files) == 1, files
    accumulator = EventAccumulator(str(files[0]), size_guidance={"scalars": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def _assert_tensorboard_equals_run(log_dir: Path, events) -> None:
    accumulator = _accumulator(log_dir)
    steps = [event for event in events if isinstance(event, Step)]
    evaluations = [event for event in events if isinstance(event, Evaluation)]
    samples = [event for event in events if isinstance(event, SystemSample)]
    assert steps and evaluations and samples  # the recorded run has all three

    loss = accumulator.Scalars("train/loss")
    assert [point.step for point in loss] == [event.step for event in steps]
    assert [point.value for point in loss] == pytest.approx([event.loss for event in steps], rel=1e-6)
    assert [point.wall_time for point in loss] == pytest.approx([event.time for event in steps])
    learning_rate = accumulator.Scalars("train/learning_rate")
    assert [point.value for point in learning_rate] == pytest.approx([event.learning_rate for event in steps])
    for metric in evaluations[0].metrics:
        points = accumulator.Scalars(f"eval/{metric}")
        assert [(point.step, point.value) for point in points] == [
            (event.step, pytest.approx(event.metrics[metric], rel=1e-6)) for event in evaluations
        ]
    cpu = accumulator.Scalars("system/cpu_percent")
    assert [point.value for point in cpu] == pytest.approx([event.cpu_percent for event in samples])


def test_export_to_tensorboard_reads_back_equal_to_the_run(recorded_run, events, tmp_path, capsys):
    pytest.importorskip("tensorboard")
    from workbench.cli import main

    assert main(["export", str(recorded_run), "--to", "tensorboard", str(tmp_path / "tb")]) == 0
    assert "tensorboard --logdir" in capsys.readouterr().out

    _assert_tensorboard_equals_run(tmp_path / "tb" / recorded_run.name, events)

    # A second export would draw every curve twice: refused, nothing written.
    assert main(["export", str(recorded_run), "--to", "tensorboard", str(tmp_path / "tb")]) == 2
    assert "already holds TensorBoard events" in capsys.readouterr().err
    assert len(list((tmp_path / "tb" / recorded_run.name).iterdir())) == 1


@pytest.mark.parametrize("tracker", ["tensorboard", "trackio"])
def test_export_into_a_file_is_refused_before_any_tracker_starts(recorded_run, tmp_path, capsys, tracker):
    # TensorBoard said "could not start: NotADirectoryError ...; the run goes on without it" (exit 1).
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine\n")
    from workbench.cli import main

    for destination in (a_file, a_file / "sub"):
        assert main(["export", str(recorded_run), "--to", tracker, str(destination)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"workbench: {a_file} is a file, not a folder.") and "Traceback" not in err
    assert a_file.read_text() == "mine\n"


def test_the_live_mirror_writes_tensorboard_in_the_run_folder(recorded_run, events):
    """report_to = ["tensorboard"]: the sink hands each event over; the writing happens on a thread."""
    pytest.importorskip("tensorboard")
    spec = {"training": {"report_to": ["tensorboard"]}}
    mirror = TrackerMirror.from_spec(spec, recorded_run)
    alerts = []
    for event in events:
        alerts += mirror.emit(event)
    alerts += mirror.close()

    assert alerts == []
    _assert_tensorboard_equals_run(recorded_run / "tensorboard", events)
    spec_text = _accumulator(recorded_run / "tensorboard").Tensors("spec/text_summary")
    assert b"model.name_or_path" in spec_text[0].tensor_proto.string_val[0]


TRACKIO_READER = """
import json, sys
import trackio
from trackio.sqlite_storage import SQLiteStorage

project, run = sys.argv[1], sys.argv[2]
runs = trackio.Api().runs(project)
print(json.dumps({
    "runs": [r.name for r in runs],
    "config": runs[0].config,
    "logs": SQLiteStorage.get_logs(project, run),
}))
"""


def _in_trackio_dir(directory: Path, *args: str) -> subprocess.CompletedProcess:
    """A fresh interpreter: trackio reads TRACKIO_DIR once, when it is imported."""
    env = {**os.environ, "TRACKIO_DIR": str(directory), "GRADIO_ANALYTICS_ENABLED": "False"}
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_export_to_trackio_opens_with_the_same_metrics(recorded_run, events, tmp_path):
    pytest.importorskip("trackio")
    store = tmp_path / "trackio"
    exported = _in_trackio_dir(
        store, "-m", "workbench", "export", str(recorded_run), "--to", "trackio", str(store), "--project", "mrpc"
    )
    assert exported.returncode == 0, exported.stderr

    again = _in_trackio_dir(
        store, "-m", "workbench", "export", str(recorded_run), "--to", "trackio", str(store), "--project", "mrpc"
    )
    assert again.returncode == 2 and "already has run" in again.stderr  # not drawn twice

    read = _in_trackio_dir(store, "-c", TRACKIO_READER, "mrpc", recorded_run.name)
    assert read.returncode == 0, read.stderr
    found = json.loads(read.stdout.strip().splitlines()[-1])
    assert found["runs"] == [recorded_run.name]
    assert found["config"]["training.learning_rate"] == 3e-05
    logs = found["logs"]
    losses = [(row["step"], row["train/loss"]) for row in logs if "train/loss" in row]
    assert losses == [(event.step, pytest.approx(event.loss)) for event in events if isinstance(event, Step)]
    accuracy = [(row["step"], row["eval/accuracy"]) for row in logs if "eval/accuracy" in row]
    expected = [(e.step, pytest.approx(e.metrics["accuracy"])) for e in events if isinstance(e, Evaluation)]
    assert accuracy == expected


def test_wandb_runs_offline_by_default(recorded_run, events, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    mirror = TrackerMirror(["wandb"], recorded_run, threaded=False)
    alerts = []
    for event in events[:200]:
        alerts += mirror.emit(event)
    alerts += mirror.close()

    assert alerts == []
    runs = list((recorded_run / "wandb" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1  # offline: nothing was sent anywhere
    (record,) = runs[0].glob("run-*.wandb")
    assert b"train/loss" in record.read_bytes()


def test_a_failing_tracker_becomes_one_alert_and_the_run_goes_on(recorded_run, events, monkeypatch):
    pytest.importorskip("tensorboard")
    from workbench.training import trackers

    def full_disk(self, values, step, walltime):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(trackers.TensorBoardTracker, "log", full_disk)
    mirror = TrackerMirror(["tensorboard"], recorded_run, threaded=True)
    alerts = []
    for event in events:
        alerts += mirror.emit(event)  # never raises
    alerts += mirror.close()

    assert len(alerts) == 1
    (alert,) = alerts
    assert isinstance(alert, Alert) and alert.kind == "tracker"
    assert "tensorboard failed" in alert.message and "No space left on device" in alert.message
    assert "the run goes on" in alert.message


def test_a_missing_tracker_library_is_an_alert_naming_the_extra(recorded_run, events, monkeypatch):
    monkeypatch.setitem(sys.modules, "trackio", None)
    mirror = TrackerMirror.from_spec({"training": {"report_to": ["trackio"]}}, recorded_run, threaded=False)

    alerts = mirror.emit(events[0]) + mirror.emit(events[1]) + mirror.close()

    assert [alert.message for alert in alerts] == [
        'trackio is not installed (pip install -e ".[trackers]"); the run goes on without it'
    ]


def test_report_to_takes_what_training_arguments_takes():
    assert parse_report_to([]) == []
    assert parse_report_to(None) == []
    assert parse_report_to("none") == []
    assert parse_report_to("wandb") == ["wandb"]
    assert parse_report_to(["wandb", "TensorBoard"]) == ["tensorboard", "wandb"]
    assert parse_report_to("all") == ["tensorboard", "trackio", "wandb"]
    with pytest.raises(ValueError, match="unknown tracker 'comet'"):
        parse_report_to(["comet"])


def test_a_bad_report_to_is_an_alert_not_a_crash(recorded_run, events):
    mirror = TrackerMirror.from_spec({"training": {"report_to": ["tensorbored"]}}, recorded_run)
    alerts = mirror.emit(events[0])
    assert len(alerts) == 1 and "training.report_to: unknown tracker 'tensorbored'" in alerts[0].message
    assert not mirror.active and mirror.emit(events[1]) == [] and mirror.close() == []


def test_no_report_to_costs_nothing(recorded_run, events):
    mirror = TrackerMirror.from_spec({"training": {}}, recorded_run)
    assert not mirror.active
    assert all(mirror.emit(event) == [] for event in events)
    assert mirror._thread is None and not (recorded_run / "tensorboard").exists()


def test_scalar_names_follow_the_trainer(events):
    step = next(event for event in events if isinstance(event, Step))
    values, at = scalars(step, 0)
    assert at == step.step and values["train/loss"] == step.loss and "train/epoch" in values
    evaluation = next(event for event in events if isinstance(event, Evaluation))
    values, at = scalars(evaluation, 0)
    assert at == evaluation.step and set(values) == {f"eval/{name}" for name in evaluation.metrics}
    test_split = Evaluation(step=3, epoch=1.0, metrics={"f1": 0.5}, split="test")
    assert scalars(test_split, 0) == ({"test/f1": 0.5}, 3)
    sample = next(event for event in events if isinstance(event, SystemSample))
    values, at = scalars(sample, 42)
    assert at == 42 and values["system/cpu_percent"] == sample.cpu_percent
