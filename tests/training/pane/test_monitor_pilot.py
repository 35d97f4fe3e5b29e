"""Pilot tests of the monitor: live following, chart controls, crash detection, `workbench attach`."""

from __future__ import annotations

import shutil

from tests.training.pane.conftest import monitor_loaded, wait_for
from tests.training.pane.fixtures.make_fixtures import CRASHED, FINISHED, GPU, RUNNING
from workbench.core.runs.protocol import EventWriter, Finished, Step
from workbench.ui.app import make_app
from workbench.ui.training.chart import LineChart
from workbench.ui.training.monitor import RunMonitor

SIZE = (140, 46)


async def test_monitor_follows_new_events_and_output(runs_dir):
    app = make_app(probe_hub_on_start=False, attach_run=RUNNING)
    async with app.run_test(size=SIZE) as pilot:
        await monitor_loaded(pilot)
        monitor = app.screen.query_one(RunMonitor)
        assert monitor.history.step == 412 and monitor.status == "running"
        start = monitor.history.last_time
        with EventWriter(runs_dir / RUNNING / "events.jsonl") as writer:
            for step in range(413, 1413):
                writer.emit(Step(step=step, epoch=step / 230, loss=0.3, learning_rate=1e-5, time=start + step))
        with open(runs_dir / RUNNING / "stdout.log", "a") as log:
            log.write("step 1412 live line\n")
        await wait_for(pilot, lambda: monitor.history.step == 1412)
        assert len(monitor.history.loss) == 1412
        await wait_for(pilot, lambda: "step 1412 live line" in monitor.query_one("#log-tail").lines)
        with EventWriter(runs_dir / RUNNING / "events.jsonl") as writer:
            writer.emit(Finished(status="stopped", time=start + 2000))
        await wait_for(pilot, lambda: monitor.status == "stopped")


async def test_chart_keys_smoothing_log_zoom_and_metric(runs_dir):
    app = make_app(probe_hub_on_start=False, attach_run=FINISHED)
    async with app.run_test(size=SIZE) as pilot:
        await monitor_loaded(pilot)
        monitor = app.screen.query_one(RunMonitor)
        loss_chart = monitor.query_one("#loss-chart", LineChart)
        assert monitor.history.loss.weight == 0.9
        await pilot.press("right_square_bracket")
        assert monitor.history.loss.weight == 0.95
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert monitor.history.loss.weight == 0.8
        await pilot.press("l")
        assert loss_chart.log_scale
        await pilot.press("z")
        assert loss_chart.last_n == 100 and monitor.query_one("#lr-chart", LineChart).last_n == 100
        first = monitor.metric_name
        await pilot.press("m")
        assert monitor.metric_name != first and monitor.metric_name in monitor.history.metric_names()


async def test_crashed_run_is_detected_and_resume_is_offered(runs_dir):
    app = make_app(probe_hub_on_start=False, attach_run=CRASHED)
    async with app.run_test(size=SIZE) as pilot:
        await monitor_loaded(pilot)
        monitor = app.screen.query_one(RunMonitor)
        await wait_for(pilot, lambda: monitor.status == "crashed")
        pane = app.screen.query_one("#training-pane")
        assert pane.check_action("resume", ()) is True
        assert pane.check_action("stop", ()) is None  # nothing to stop
        assert "Traceback (most recent call last):" in monitor.query_one("#log-tail").lines


async def test_escape_returns_to_the_list_and_enter_reopens(runs_dir):
    app = make_app(probe_hub_on_start=False, attach_run=GPU)
    async with app.run_test(size=SIZE) as pilot:
        await monitor_loaded(pilot)
        pane = app.screen.query_one("#training-pane")
        assert pane.view == "monitor"
        await pilot.press("escape")
        assert pane.view == "runs-view"


def test_attach_command_resolves_the_run_before_opening_the_app(runs_dir, monkeypatch):
    import workbench.cli as cli

    opened = []
    monkeypatch.setattr(cli, "run_app", lambda attach_run=None: opened.append(attach_run) or 0)
    assert cli.main(["attach", "f00d"]) == 0
    assert opened == [str((runs_dir / FINISHED).resolve())]
    assert cli.main(["attach", "no-such-run"]) == 2
    assert len(opened) == 1


def test_attach_to_a_copied_folder_by_path(runs_dir, tmp_path, monkeypatch):
    import workbench.cli as cli

    elsewhere = shutil.copytree(runs_dir / GPU, tmp_path / "copied-run")
    opened = []
    monkeypatch.setattr(cli, "run_app", lambda attach_run=None: opened.append(attach_run) or 0)
    assert cli.main(["attach", str(elsewhere)]) == 0
    assert opened == [str(elsewhere.resolve())]


async def test_showing_another_run_after_one_with_evaluations_does_not_crash(runs_dir):
    """Issue 22 item 1: show_run() reset the history but kept the metric name (KeyError: 'accuracy')."""
    app = make_app(probe_hub_on_start=False, attach_run=FINISHED)
    async with app.run_test(size=SIZE) as pilot:
        await monitor_loaded(pilot)
        monitor = app.screen.query_one(RunMonitor)
        assert monitor.metric_name  # the finished run has evaluations
        pane = app.screen.query_one("#training-pane")
        await pilot.press("escape")
        table = pane.query_one("#runs-table")
        await wait_for(pilot, lambda: table.row_count == 4)
        table.move_cursor(row=0)  # the running run
        await pilot.press("enter")
        await wait_for(pilot, lambda: monitor.run_dir.name == RUNNING and monitor.history.events_seen > 0)
        await pilot.pause()
        assert pane.view == "monitor" and app.is_running
        assert monitor.metric_name in monitor.history.metric_names()


async def test_a_user_theme_recolours_the_gpu_panel(runs_dir, tmp_path, monkeypatch):
    """Issue 14: the GPU colours come from the theme variables gpu-hot / gpu-cool."""
    from textual.color import Color

    from workbench.core import paths
    from workbench.ui.training.panels import SystemPanel

    themes = tmp_path / "themes"
    themes.mkdir()
    dusk = (paths.bundled_themes_dir() / "workbench-dusk.toml").read_text()
    mine = dusk.replace('name = "workbench-dusk"', 'name = "gpu-test"')
    mine = mine.replace('gpu-hot = "#EF4444"', 'gpu-hot = "#123456"').replace(
        'gpu-cool = "#38BDF8"', 'gpu-cool = "#654321"'
    )
    (themes / "gpu-test.toml").write_text(mine)
    monkeypatch.setenv("WORKBENCH_THEME", "gpu-test")
    app = make_app(probe_hub_on_start=False, attach_run=GPU, theme_dirs=[themes])
    async with app.run_test(size=SIZE) as pilot:
        await monitor_loaded(pilot)
        assert app.theme == "gpu-test"
        panel = app.screen.query_one(SystemPanel)
        colours = {
            segment.style.color.triplet.hex
            for y in range(panel.size.height)
            for segment in panel.render_line(y)
            if segment.style and segment.style.color and segment.style.color.triplet
        }
        assert Color.parse("#654321").hex.lower() in colours or Color.parse("#123456").hex.lower() in colours


async def test_the_monitor_counts_unreadable_event_lines(runs_dir):
    """Issue 19 item 6 (the reader skips bad records one by one): the monitor says how many it skipped."""
    from workbench.ui.training.panels import ProgressLine

    events = runs_dir / RUNNING / "events.jsonl"
    lines = events.read_text().splitlines()
    lines.insert(5, '{"v":1,"type":"step","time":"noon","step":"x"')  # cut short and ill-typed
    events.write_text("\n".join(lines) + "\n")
    app = make_app(probe_hub_on_start=False, attach_run=RUNNING)
    async with app.run_test(size=SIZE) as pilot:
        await monitor_loaded(pilot)
        monitor = app.screen.query_one(RunMonitor)
        progress = monitor.query_one(ProgressLine)
        assert monitor.history.skipped_lines == 1 and "1 unreadable line of events.jsonl skipped" in progress.markup
        with open(events, "a") as handle:
            handle.write("not json at all\n")
        await wait_for(pilot, lambda: monitor.history.skipped_lines == 2)
        await pilot.pause()
        assert "2 unreadable lines of events.jsonl skipped" in progress.markup


async def test_a_prepared_run_waits_for_its_machines_instead_of_reading_crashed(runs_dir):
    # A folder `train --print-launch` made: a spec, nothing started. The monitor said CRASHED.
    from workbench.core.runs.protocol import RunStarted
    from workbench.ui.training.panels import ProgressLine

    prepared = runs_dir / "20260101-000000-tiny-prep"
    prepared.mkdir()
    shutil.copy(runs_dir / FINISHED / "spec.toml", prepared / "spec.toml")
    (prepared / "control").mkdir()
    (prepared / "control" / "prepared").touch()  # as `launch_run(start=False)` leaves it
    app = make_app(probe_hub_on_start=False, attach_run=prepared.name)
    async with app.run_test(size=SIZE) as pilot:
        monitor = app.screen.query_one(RunMonitor)
        await wait_for(pilot, lambda: monitor.status == "prepared")
        line = str(monitor.query_one(ProgressLine).render())
        assert f"workbench resume {prepared.name} --print-launch" in line and "CRASHED" not in line
        assert not monitor.query_one("AlertBar").has_class("-visible")
        with EventWriter(prepared / "events.jsonl") as writer:  # its main machine starts it
            writer.emit(RunStarted(run_id=prepared.name, spec={}, total_steps=10, time=1.0))
        await wait_for(pilot, lambda: monitor.status != "prepared")
        assert monitor.history.started is not None
