"""The shared Show code dialog (workbench/ui/widgets/code_dialog.py) that the Datasets, Models and
Training (Errors view) panes open: the code shown whole, copied by key or button, closed by escape or
button, each caller's widget ids kept."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Button, TextArea

from workbench.ui.widgets.code_dialog import CodeDialog

CODE = "import pyarrow.parquet as pq\n\nrecords = pq.read_table('x.parquet').to_pandas()\nprint(records)\n"


class Host(App[None]):
    pass


async def test_shows_copies_and_closes_with_the_callers_ids():
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        closed = []
        dialog = CodeDialog(CODE, "Code that reproduces this table", ids=("errors-code", "errors-copy", "errors-close"))
        app.push_screen(dialog, closed.append)
        await pilot.pause()
        assert app.screen is dialog
        area = dialog.query_one("#errors-code", TextArea)
        assert area.text == CODE and area.read_only
        assert str(dialog.query_one(".code-dialog-title").render()) == "Code that reproduces this table"
        await pilot.press("ctrl+y")
        assert app.clipboard == CODE
        app.copy_to_clipboard("")
        await pilot.click("#errors-copy")
        assert app.clipboard == CODE
        await pilot.click("#errors-close")
        await pilot.pause()
        assert app.screen is not dialog and closed == [None]


async def test_default_ids_and_escape_closes():
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = CodeDialog("x = 1\n")
        await app.push_screen(dialog)
        await pilot.pause()
        assert {button.id for button in dialog.query(Button)} == {"code-copy", "code-close"}
        assert dialog.query_one("#code-text", TextArea).text == "x = 1\n"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not dialog


async def test_the_panes_use_the_shared_dialog():
    """Models' ShowCodeScreen is the shared dialog (kept as a name for the pane's callers)."""
    from workbench.ui.models.dialogs import ShowCodeScreen

    assert ShowCodeScreen is CodeDialog
