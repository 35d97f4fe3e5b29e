"""The report dialog: a snapshot of a pane error's report, and the copy, save and build flows."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Static, TextArea

from tests.report.conftest import FIXED_ENVIRONMENT
from tests.report.test_reports import crashed_run  # noqa: F401 (fixture)
from workbench.core.report import build_error_report
from workbench.ui.widgets.report_dialog import ReportDialog

SIZE = (100, 32)
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/home/alice/wb/loader.py", line 3, in load\n'
    "OSError: Can't load tokenizer for '/home/alice/models/tok'. Make sure the folder has tokenizer.json"
)


class Host(App):
    """Opens one dialog over an empty screen and keeps what it dismissed with."""

    def __init__(self, dialog: ReportDialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.dismissed: list = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.dismissed.append)


def pane_report() -> str:
    return build_error_report(
        "Loading a tokenizer",
        TRACEBACK,
        {"source": "/home/alice/models/tok", "use_fast": True},
        'from transformers import AutoTokenizer\n\ntok = AutoTokenizer.from_pretrained("/home/alice/models/tok")\n',
        environment=FIXED_ENVIRONMENT,
    )


@pytest.fixture
def alice(monkeypatch):
    monkeypatch.setenv("HOME", "/home/alice")


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_report_dialog_snapshot(snap_compare, alice):
    """A pane's error report: the title, the Markdown from its start (summary, environment with the GPU
    line), the hint that tokens are removed, and Copy / Save / Close; home paths read ~."""
    app = Host(ReportDialog(pane_report(), title="Report: Loading a tokenizer"))
    assert snap_compare(app, terminal_size=SIZE)


async def test_copy_and_save(tmp_path, alice):
    markdown = pane_report()
    messages = []
    app = Host(ReportDialog(markdown, tmp_path / "out" / "report.md"))
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await pilot.press("ctrl+y")
        assert app.clipboard == markdown
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = tmp_path / "out" / "report.md"
        assert saved.read_text(encoding="utf-8") == markdown
        assert f"Saved as {saved}" in str(app.screen.query_one("#report-status", Static).render())
        await pilot.press("escape")
        await pilot.pause()
    kinds = [type(message) for message in messages]
    assert ReportDialog.Copied in kinds and ReportDialog.Saved in kinds
    assert app.dismissed == [saved]


async def test_save_without_a_place_goes_to_the_reports_folder(isolated_dirs):
    app = Host(ReportDialog("# a report\n"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await pilot.pause()
    (saved,) = (isolated_dirs / "data" / "reports").glob("report-*.md")
    assert saved.read_text(encoding="utf-8") == "# a report\n"


async def test_a_failing_build_says_why_in_one_line():
    def build() -> str:
        raise ValueError("the run folder has no spec.toml\nsecond line")

    app = Host(ReportDialog(build=build))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = app.screen.query_one("#report-status", Static)
        assert str(status.render()) == "Could not build the report: ValueError: the run folder has no spec.toml"
        assert status.has_class("-error")
        assert not app.screen.query_one("#report-text", TextArea).loading


async def test_for_run_builds_in_a_worker_and_saves_report_md(crashed_run):  # noqa: F811
    app = Host(ReportDialog.for_run(crashed_run))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = app.screen.query_one("#report-text", TextArea).text
    assert text.startswith("# workbench run crashed")
    assert Path(crashed_run / "report.md").read_text(encoding="utf-8") == text
    assert app.dialog.saved_path == crashed_run / "report.md"
