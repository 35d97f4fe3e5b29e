"""Reports from the app (issue 24): `e` on a crashed run, `f2` after an error a pane showed."""

from __future__ import annotations

from tests.training.pane.conftest import monitor_loaded, wait_for
from tests.training.pane.fixtures.make_fixtures import CRASHED
from workbench.ui.app import make_app
from workbench.ui.widgets.report_dialog import ReportDialog

SIZE = (120, 40)


async def test_e_on_a_crashed_run_opens_its_report_and_saves_it_in_the_run_folder(runs_dir):
    app = make_app(probe_hub_on_start=False, attach_run=CRASHED)
    async with app.run_test(size=SIZE) as pilot:
        await monitor_loaded(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ReportDialog)
        await wait_for(pilot, lambda: (runs_dir / CRASHED / "report.md").exists(), timeout=120)
        report = (runs_dir / CRASHED / "report.md").read_text()
        assert CRASHED in report and "transformers" in report  # the run and the versions


async def test_f2_reports_the_last_error_a_pane_showed(runs_dir):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        assert not isinstance(app.screen, ReportDialog)  # nothing to report yet: a note says so
        app.notify("Could not open spam.tsv: line 3 has 4 fields, the header 2", title="Datasets", severity="error")
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, ReportDialog)
        assert app.last_error == ("Datasets", "Could not open spam.tsv: line 3 has 4 fields, the header 2")
