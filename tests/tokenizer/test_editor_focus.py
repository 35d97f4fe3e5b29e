"""Showing the Tokenizer pane puts the focus in its text box, so typing starts at once; esc leaves
it and the number keys switch panes again (issue 22 items 4-5: focus landed on the pane itself
and the first key typed went nowhere)."""

from __future__ import annotations

from textual.widgets import TabbedContent

from tests.tokenizer.helpers import SIZE, new_app, settle
from workbench.ui.tokenizer.editor import TokenizerEditor


def _active(app) -> str:
    return app.screen.query_one("#panes", TabbedContent).active


async def test_each_way_of_showing_the_pane_focuses_the_editor_and_esc_leaves_it():
    app = new_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")  # first show: the pane is built, then the editor takes the focus
        await settle(pilot)
        pane = app.screen.query_one("#tokenizer-pane")
        editor = pane.query_one("#tok-text", TokenizerEditor)
        assert app.focused is editor
        await pilot.press("f4", *"hello world")  # typed right away, no tab; f4 (the pane's key) works too
        await settle(pilot)
        assert editor.text == "hello world"
        assert [t.text for t in pane.result.windows[0].tokens] == ["[CLS]", "hello", "world", "[SEP]"]

        await pilot.press("escape")  # leaves the editor for the pane: 3 switches instead of typing
        await pilot.pause()
        assert app.focused is pane
        await pilot.press("3")
        await settle(pilot)
        assert _active(app) == "datasets" and editor.text == "hello world"

        await pilot.press("alt+2")  # shown again (already built), from another pane
        await settle(pilot)
        assert _active(app) == "tokenizer" and app.focused is editor

        await pilot.press("escape", "1")
        await settle(pilot)
        assert _active(app) == "models"
        await app.run_action("open_pane('tokenizer')")  # what the palette's "pane: tokenizer" runs
        await settle(pilot)
        assert _active(app) == "tokenizer" and app.focused is editor


async def test_focus_the_user_put_elsewhere_in_the_pane_stays_there():
    app = new_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("f8")  # the options column
        await pilot.pause()
        options = app.focused
        assert options is not None and options.id == "opt-special"
        await pilot.press("f1")  # the help screen over the pane, then back
        await settle(pilot)
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert _active(app) == "tokenizer" and app.focused is options
