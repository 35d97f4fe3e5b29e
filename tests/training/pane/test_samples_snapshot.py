"""The monitor of a translation run shows its latest evaluation's sample predictions.

The run folder is recorded here, at fixed times (no clock on screen): a finished seq2seq run of
120 steps with an evaluation (eval_loss, BLEU, chrF and three samples) every 40 steps.
"""

from __future__ import annotations

import json
import math
import time

import pytest

from tests.training.pane.conftest import monitor_loaded, wait_for
from workbench.core.runs.follow import NEVER_A_PID
from workbench.core.runs.protocol import Evaluation, EventWriter, Finished, LogLine, RunStarted, Step
from workbench.ui.app import make_app

SIZE = (140, 46)
RUN_ID = "20260101-100000-t5-small-5e2d"
T0 = 1767261600.0  # 2026-01-01 10:00:00 UTC
SPEC = {
    "model": {"name_or_path": "t5-small", "head": "seq2seq"},
    "data": {
        "train_file": "translation/multi30k/train.en",
        "validation_file": "translation/multi30k/val.en",
        "source_lang": "en",
        "target_lang": "de",
        "source_prefix": "translate English to German: ",
        "max_length": 128,
        "max_target_length": 128,
    },
    "training": {"learning_rate": 2e-5, "num_train_epochs": 3.0, "per_device_train_batch_size": 32, "seed": 42,
                 "metrics": ["bleu", "chrf"], "generation_num_beams": 4, "generation_max_length": 128},
}  # fmt: skip
INPUTS = [
    "Two young, White males are outside near many bushes.",
    "A little girl climbing into a wooden playhouse, while her older brother holds the ladder and their"
    " grandmother watches from the porch.",
    "A man in a blue shirt is standing on a ladder cleaning windows.",
]
REFERENCES = [
    "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.",
    "Ein kleines Mädchen klettert in ein Spielhaus aus Holz, während ihr älterer Bruder die Leiter hält.",
    "Ein Mann in einem blauen Hemd steht auf einer Leiter und putzt Fenster.",
]
PREDICTIONS = {
    40: ["Zwei junge Männer sind draußen.", "Ein Mädchen klettert in ein Haus.", "Ein Mann steht auf einer Leiter."],
    80: [
        "Zwei junge weiße Männer sind im Freien in der Nähe von Büschen.",
        "Ein kleines Mädchen klettert in ein hölzernes Spielhaus, während der Bruder die Leiter hält.",
        "Ein Mann in einem blauen Hemd steht auf einer Leiter und putzt Fenster.",
    ],
    120: [
        "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.",
        "Ein kleines Mädchen klettert in ein Spielhaus aus Holz, während ihr Bruder die Leiter hält.",
        "Ein Mann in einem blauen Hemd steht auf einer Leiter und putzt Fenster.",
    ],
}


def record_translation_run(runs_dir) -> None:
    folder = runs_dir / RUN_ID
    folder.mkdir(parents=True)
    writer = EventWriter(folder / "events.jsonl")
    now = T0

    def emit(event) -> None:
        event.time = now
        writer.emit(event)

    emit(RunStarted(run_id=RUN_ID, spec=SPEC, devices=[{"type": "cpu"}], total_steps=120, num_epochs=3.0,
                    steps_per_epoch=40, pid=NEVER_A_PID))  # fmt: skip
    metrics = {}
    for step in range(1, 121):
        now += 0.5
        loss = 1.2 + 2.8 * math.exp(-step / 30) + 0.05 * math.sin(step)
        emit(Step(step=step, epoch=step / 40, loss=loss, learning_rate=2e-5 * (1 - step / 120), samples_per_s=64.0))
        if step % 40 == 0:
            now += 20.0
            metrics = {"eval_loss": 1.1 + 2.0 * math.exp(-step / 40), "bleu": 8.0 + step / 6, "chrf": 30.0 + step / 5}
            samples = [
                {"input": source, "reference": reference, "prediction": prediction}
                for source, reference, prediction in zip(INPUTS, REFERENCES, PREDICTIONS[step], strict=True)
            ]
            emit(Evaluation(step=step, epoch=step / 40, metrics=metrics, samples=samples))
    emit(LogLine(message="saved the final model"))
    summary = {"status": "finished", "run_id": RUN_ID, "head": "seq2seq", "steps": 120, "final_metrics": metrics}
    emit(Finished(status="finished", summary=summary))
    writer.close()
    (folder / "spec.toml").write_text('[model]\nname_or_path = "t5-small"\nhead = "seq2seq"\n', encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    (folder / "stdout.log").write_text("eval step 120: bleu 28.0000 chrf 54.0000\n", encoding="utf-8")


@pytest.fixture
def translation_runs(tmp_path, monkeypatch):
    runs_dir = tmp_path / "runs"
    record_translation_run(runs_dir)
    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(runs_dir))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    return runs_dir


def test_monitor_shows_the_latest_samples(snap_compare, translation_runs):
    """A finished translation run: the evaluations table with eval_loss, BLEU and chrF, and below it
    the samples of step 120, input | reference | prediction, the long input cut with an ellipsis and
    the third prediction (equal to its reference) in the success colour."""

    async def loaded(pilot):
        await monitor_loaded(pilot)
        view = pilot.app.screen.query_one("#samples-view")
        await wait_for(pilot, lambda: len(view.samples) == 3 and view.display)

    assert snap_compare(make_app(probe_hub_on_start=False, attach_run=RUN_ID), terminal_size=SIZE, run_before=loaded)


async def test_samples_follow_the_latest_evaluation_and_stay_hidden_without_any(translation_runs):
    from workbench.ui.training.monitor import RunMonitor

    app = make_app(probe_hub_on_start=False, attach_run=RUN_ID)
    async with app.run_test(size=SIZE) as pilot:
        await monitor_loaded(pilot)
        monitor = pilot.app.screen.query_one(RunMonitor)
        view = monitor.query_one("#samples-view")
        await wait_for(pilot, lambda: len(view.samples) == 3)
        assert view.border_title == "samples · step 120"
        assert view.samples[2][1] == view.samples[2][2] == REFERENCES[2]
        monitor.history.evaluations = monitor.history.evaluations[:1]
        monitor.redraw()
        assert view.border_title == "samples · step 40" and view.samples[0][2] == PREDICTIONS[40][0]
        for evaluation in monitor.history.evaluations:
            evaluation.samples = []
        monitor.redraw()
        await pilot.pause()
        assert not view.display and view.samples == ()
