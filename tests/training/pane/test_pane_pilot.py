"""Pilot tests of the pane's keys on recorded runs: open, mark and compare, open model, push, folder."""

from __future__ import annotations

from tests.training.pane.conftest import monitor_loaded, wait_for
from tests.training.pane.fixtures.make_fixtures import CRASHED, FINISHED, RUNNING
from workbench.ui.app import make_app
from workbench.ui.hub.push_dialog import PushDialog
from workbench.ui.messages import OpenModelRequested, PushRequested
from workbench.ui.training.compare import CompareView
from workbench.ui.training.runs_table import RunsTable

SIZE = (140, 46)


async def test_list_open_mark_and_compare(runs_dir):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        assert [run.run_id for run in table.runs.values()][0] == RUNNING  # newest first
        await pilot.press("space", "down", "down", "space", "down", "space", "c")
        view = app.screen.query_one(CompareView)
        await wait_for(pilot, lambda: len(view.histories) == 3)
        assert [folder.name for folder in view.folders] == [RUNNING, CRASHED, FINISHED]
        assert view.statuses == ["running", "crashed", "finished"]
        await pilot.press("escape", "down", "down", "down", "enter")
        pane = app.screen.query_one("#training-pane")
        assert pane.view == "monitor"
        await monitor_loaded(pilot)
        assert pane.query_one("#monitor").run_dir.name == FINISHED


async def test_open_push_and_folder_for_a_finished_run(runs_dir):
    posted = []
    app = make_app(probe_hub_on_start=False, attach_run=FINISHED)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        await monitor_loaded(pilot)
        pane = app.screen.query_one("#training-pane")
        assert pane.check_action("stop", ()) is None and pane.check_action("open_model", ()) is True
        await pilot.press("f")
        assert str(runs_dir / FINISHED) in app.clipboard
        await pilot.press("p")
        pushes = [m for m in posted if isinstance(m, PushRequested)]
        assert pushes and pushes[0].folder.endswith("final") and pushes[0].run_dir.endswith(FINISHED)
        await pilot.pause()
        assert isinstance(app.screen, PushDialog)
        await app.pop_screen()
        await pilot.pause()
        await pilot.press("o")
        opened = [m for m in posted if isinstance(m, OpenModelRequested)]
        assert opened and opened[0].path == str(runs_dir.resolve() / FINISHED / "final")


async def test_a_rescan_updates_changed_cells_in_place(runs_dir):
    """The same runs with new steps: cells change where they differ; no rows are rebuilt, the cursor stays."""
    import dataclasses

    from textual import messages

    posted = []
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        await pilot.press("4")
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        await pilot.press("down", "down")
        runs = list(table.runs.values())
        posted.clear()
        table.show_runs([dataclasses.replace(runs[0], step=runs[0].step + 7)] + runs[1:])
        await pilot.pause()
        key = str(runs[0].path)
        assert table.get_cell(key, "steps").startswith(f"{runs[0].step + 7:,}")
        assert table.cursor_row == 2 and table.row_count == 4
        assert not [m for m in posted if isinstance(m, messages.Layout) and m.widget is table]


def _write_ill_typed_run(runs_dir, run_id: str = "20251231-100000-minilm-bad0"):
    """A copy of the finished run whose run_started says "total_steps": "many" (issue 19 item 7)."""
    import json
    import shutil

    folder = shutil.copytree(runs_dir / FINISHED, runs_dir / run_id)
    lines = (folder / "events.jsonl").read_text().splitlines()
    started = json.loads(lines[0])
    started.update(total_steps="many", run_id=run_id)
    lines[0] = json.dumps(started)
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    return folder


async def test_an_ill_typed_run_folder_never_takes_the_app_down(runs_dir):
    """Issue 19 item 7: the list shows the bad folder as a row; opening it shows the monitor, not a traceback."""
    bad = _write_ill_typed_run(runs_dir)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 5)
        assert str(bad) in table.runs
        table.move_cursor(row=list(table.runs).index(str(bad)))
        await pilot.press("enter")
        pane = app.screen.query_one("#training-pane")
        await monitor_loaded(pilot)
        assert pane.view == "monitor" and app.is_running
        await pilot.press("escape")
        await wait_for(pilot, lambda: pane.view == "runs-view")
        assert app.is_running


async def test_the_runs_list_shows_a_record_of_the_wrong_type_as_unreadable(runs_dir):
    """Whatever a reader lets through, a value of the wrong type gives an "unreadable" row, not a ValueError."""
    import dataclasses

    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        runs = list(table.runs.values())
        table.show_runs([dataclasses.replace(runs[0], total_steps="many", run_id="x" * 8)] + runs[1:])
        await pilot.pause()
        key = str(runs[0].path)
        assert str(table.get_cell(key, "status")) == "✖ unreadable"
        assert table.get_cell(key, "run") == "x" * 8
        assert str(table.get_cell(str(runs[1].path), "status")) != "✖ unreadable"


async def test_a_running_runs_duration_keeps_counting_in_the_list(runs_dir, monkeypatch):
    """Issue 22 item 11: a rescan compared the old run's cells recomputed now, so the duration never moved."""
    from tests.training.pane.fixtures.make_fixtures import T0
    from workbench.ui.training import runs_table

    now = [T0 + 300]
    monkeypatch.setattr(runs_table, "wall_clock", lambda: now[0])
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        running = next(run for run in table.runs.values() if run.run_id == RUNNING)
        before = table.get_cell(str(running.path), "duration")
        now[0] += 125
        table.show_runs(list(table.runs.values()))  # what the next scan does with unchanged runs
        await pilot.pause()
        after = table.get_cell(str(running.path), "duration")
        assert after != before and after == runs_table.duration(runs_table.run_duration(running))


async def test_the_dataset_column_names_the_folder_of_a_glue_file(runs_dir):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        assert {str(table.get_cell(key, "dataset")) for key in table.runs} == {"mrpc/train.tsv"}


async def test_compare_says_which_loss_it_shows(runs_dir):
    """The chart overlays the EMA of the loss and says so; "last loss" is the last loss logged, not its EMA."""
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        pane = app.screen.query_one("#training-pane")
        pane.compare_runs([runs_dir / FINISHED])
        view = app.screen.query_one(CompareView)
        await wait_for(pilot, lambda: len(view.histories) == 1)
        await pilot.pause()
        assert view.query_one("#compare-chart").border_title == "compare: loss (EMA 0.9)"
        history = view.histories[0]
        assert history.loss.raw.last[1] != history.loss.smooth.last[1]
        compare_table = view.query_one("#compare-table")
        from workbench.core.formatting import number

        assert compare_table.get_row_at(0)[3] == number(history.loss.raw.last[1])


async def test_a_prepared_run_reads_prepared_in_the_list_and_in_compare(runs_dir):
    """A folder `--print-launch` made and nothing started: it read "crashed" in both."""
    import shutil

    prepared = runs_dir / "20260102-000000-tiny-prep"
    prepared.mkdir()
    shutil.copy(runs_dir / FINISHED / "spec.toml", prepared / "spec.toml")
    (prepared / "control").mkdir()
    (prepared / "control" / "prepared").touch()
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.screen.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 5)
        labels = [str(table.get_row_at(row)[1]) for row in range(table.row_count)]
        assert labels.count("○ prepared") == 1 and "✖ crashed" in labels  # the recorded crashed run still is
        pane = app.screen.query_one("#training-pane")
        pane.compare_runs([prepared, runs_dir / FINISHED])
        view = app.screen.query_one(CompareView)
        await wait_for(pilot, lambda: len(view.statuses) == 2)
        assert view.statuses == ["prepared", "finished"]
