"""End to end with real tiny children: start from the form, follow to the end, re-attach, stop,
resume and kill from the keys. The tiny BERT and data come from the engine's test fixtures."""

from __future__ import annotations

import os

import pytest

from tests.training.conftest import one_thread_per_run, tiny_data, tiny_model_dir, tiny_spec  # noqa: F401
from tests.training.pane.conftest import wait_for
from workbench.training import runs
from workbench.ui.app import make_app
from workbench.ui.training.monitor import RunMonitor
from workbench.ui.training.runs_table import RunsTable
from workbench.ui.training.start_form import StartRunScreen
from workbench.ui.widgets.confirm_dialog import ConfirmDialog

pytestmark = pytest.mark.slow
SIZE = (140, 46)


async def test_start_from_the_form_follow_to_the_end_then_reattach(tiny_model_dir, tiny_data):  # noqa: F811
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        app.active_model_path = str(tiny_model_dir)
        app.active_dataset = {"path": str(tiny_data["train"]), "text_column": "text", "label_column": "label"}
        await pilot.press("4", "n")
        form = app.screen
        assert isinstance(form, StartRunScreen)
        field = lambda name: form.query_one(f"#field-{name.replace('.', '--')}")  # noqa: E731
        assert field("model.name_or_path").value == str(tiny_model_dir)
        assert field("data.validation_file").value == str(tiny_data["dev"])  # the sibling dev.csv
        field("training.learning_rate").value = "fast"
        await pilot.pause()
        assert "training.learning_rate" in form.errors and form.query_one("#start-run").disabled
        assert form.query_one("#field-training--learning_rate-error").has_class("-shown")
        await pilot.press("ctrl+s")
        assert app.screen is form  # refused while a field is wrong
        for name, value in {
            "training.learning_rate": "1e-3",
            "training.max_steps": "12",
            "training.logging_steps": "2",
            "training.per_device_train_batch_size": "16",
            "training.metrics": "accuracy",
            "monitor.system_sample_interval_s": "0.5",
        }.items():
            field(name).value = value
        await pilot.pause()
        assert form.errors == {}
        await pilot.press("ctrl+s")
        monitor = app.screen.query_one(RunMonitor)
        await wait_for(pilot, lambda: monitor.run_dir is not None and monitor.history.events_seen > 0, timeout=30)
        await wait_for(pilot, lambda: monitor.status == "finished", timeout=150)
        assert monitor.history.step == 12 and "accuracy" in monitor.history.metric_names()
        run_dir = monitor.run_dir
        assert (run_dir / "final").is_dir()

    again = make_app(probe_hub_on_start=False, attach_run=run_dir.name)
    async with again.run_test(size=SIZE) as pilot:
        monitor = again.screen.query_one(RunMonitor)
        await wait_for(pilot, lambda: monitor.history.step == 12)
        assert monitor.status == "finished" and len(monitor.history.loss) == 6  # the whole curve, logged every 2 steps


async def test_runs_outlive_the_app_and_stop_resume_kill_from_the_keys(tiny_spec):  # noqa: F811
    tiny_spec["training"].update(max_steps=100_000, logging_steps=1, save_steps=0, metrics=[], eval_strategy="no")
    info = runs.launch_run(tiny_spec)

    first = make_app(probe_hub_on_start=False, attach_run=info.run_id)
    async with first.run_test(size=SIZE) as pilot:
        monitor = first.screen.query_one(RunMonitor)
        await wait_for(pilot, lambda: monitor.history.step >= 2, timeout=90)
    # The app is gone; the child is not, and a hang-up of this session would not reach it.
    assert runs.read_run(info.path).status == "running"
    child = runs.read_run(info.path).pid
    assert os.getsid(child) != os.getsid(0)

    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 1 and table.current_run().status == "running")
        await pilot.press("enter")
        monitor = app.screen.query_one(RunMonitor)
        await wait_for(pilot, lambda: monitor.history.events_seen > 0)
        assert monitor.history.loss.raw.xs[0] == 1  # the whole history from step 1
        seen = monitor.history.step
        await wait_for(pilot, lambda: monitor.history.step > seen, timeout=30)  # then live

        await pilot.press("s")
        await wait_for(pilot, lambda: monitor.status == "stopped", timeout=60)
        stopped_at = monitor.history.step
        await pilot.press("r")
        await wait_for(pilot, lambda: monitor.status == "running" and monitor.history.step > stopped_at, timeout=90)
        assert monitor.history.sessions == 2

        await pilot.press("k")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        # The monitor may say crashed as soon as the child is gone; the kill's own final event, which
        # `kill_run` writes once the child is dead, follows a poll later.
        await wait_for(pilot, lambda: monitor.status == "crashed" and monitor.history.final is not None, timeout=30)
        assert "Killed on request" in monitor.history.final.error
