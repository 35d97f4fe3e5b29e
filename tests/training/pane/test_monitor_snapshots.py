"""Snapshots of the monitor and the comparison, replayed from recorded run folders (no clocks on screen)."""

from __future__ import annotations

import pytest

from tests.training.pane.conftest import monitor_loaded, wait_for
from tests.training.pane.fixtures.make_fixtures import CRASHED, FINISHED, GPU, RUNNING, T0
from workbench.ui.app import make_app

SIZE = (140, 46)


def attach(run_id: str):
    return make_app(probe_hub_on_start=False, attach_run=run_id)


def test_running_run(snap_compare, runs_dir):
    """A CPU run at step 412/690: progress with ETA from event times, a throughput-drop alert,
    loss raw + EMA, lr warm-up and decay, three evaluations, "No GPU" system panel, output tail."""
    assert snap_compare(attach(RUNNING), terminal_size=SIZE, run_before=monitor_loaded)


def test_finished_run_with_metrics(snap_compare, runs_dir):
    """A finished run: 100%, no ETA, six evaluations in the table and the accuracy chart."""
    assert snap_compare(attach(FINISHED), terminal_size=SIZE, run_before=monitor_loaded)


def test_crashed_run_with_log_tail(snap_compare, runs_dir):
    """A run whose process died without a final event (the engine's crash record): CRASHED banner with
    the reason, elapsed time up to its last real event, and the traceback in the output tail."""

    async def crashed(pilot):
        await monitor_loaded(pilot)
        monitor = pilot.app.screen.query_one("#monitor")
        await wait_for(pilot, lambda: monitor.status == "crashed")

    assert snap_compare(attach(CRASHED), terminal_size=SIZE, run_before=crashed)


def test_gpu_run_two_gpus(snap_compare, runs_dir):
    """Two H200s: utilisation and memory sparklines, run memory, power, temperature; loss-spike and
    GPU-memory alerts; the loss chart on a log scale (l)."""

    async def log_scale(pilot):
        await monitor_loaded(pilot)
        await pilot.press("l")
        await pilot.pause()

    assert snap_compare(attach(GPU), terminal_size=SIZE, run_before=log_scale)


def test_runs_list(snap_compare, runs_dir, monkeypatch):
    """The runs list, newest first: running (with a live stand-in child), GPU run, crashed, finished with
    its best metric; durations of running runs measured against a fixed clock."""
    from workbench.ui.training import runs_table

    monkeypatch.setattr(runs_table, "wall_clock", lambda: T0 + 300)

    async def listed(pilot):
        await pilot.press("4")
        table = pilot.app.screen.query_one("#runs-table")
        await wait_for(pilot, lambda: table.row_count == 4)
        await pilot.press("down", "space", "down", "down", "space")

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=listed)


@pytest.mark.parametrize("curve_presses", [0, 5])
def test_compare_runs(snap_compare, runs_dir, curve_presses):
    """Three runs overlaid: the smoothed loss (and, after five m presses, accuracy), with the settings
    that differ between them in the table."""

    async def compare(pilot):
        await pilot.press("4")
        pane = pilot.app.screen.query_one("#training-pane")
        pane.compare_runs([runs_dir / RUNNING, runs_dir / FINISHED, runs_dir / CRASHED])
        view = pilot.app.screen.query_one("#compare")
        table = view.query_one("#compare-table")

        def table_measured() -> bool:
            # The table sizes its columns to new rows when it next goes idle, and draws them at a later refresh:
            # on a loaded machine the screenshot could come between the two, every column as narrow as its header
            # ("runnin", "finish", "crashe": it did in CI). So wait until a screenshot shows every status whole
            # (the statuses are only in the table; the run ids are in the chart's legend too).
            if table.row_count != 3:
                return False
            screenshot = pilot.app.export_screenshot()
            return all(status in screenshot for status in view.statuses)

        await wait_for(pilot, lambda: len(view.histories) == 3)
        for _ in range(curve_presses):
            await pilot.press("m")  # each refills the table
        await wait_for(pilot, table_measured)

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=compare)
