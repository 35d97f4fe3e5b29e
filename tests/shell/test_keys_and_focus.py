"""Issue 22 items 4-6: pane switching from anywhere, escape leaves a field, focus follows the shown pane."""

from __future__ import annotations

from textual.widgets import Input, TabbedContent

from workbench.ui.app import make_app

SIZE = (110, 32)


def _pane_has_focus(app, pane_id: str) -> bool:
    focused = app.focused
    pane = app.screen.query_one(f"#{pane_id}-pane")
    return focused is not None and (focused is pane or pane in focused.ancestors)


async def test_at_start_focus_is_in_the_first_pane_and_not_in_a_field():
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert _pane_has_focus(app, "models")
        assert not isinstance(app.focused, Input)
        await pilot.press("2")
        await pilot.pause()
        assert app.screen.query_one(TabbedContent).active == "tokenizer"


async def test_number_keys_type_in_a_field_and_escape_leaves_it():
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        field = app.screen.query_one("#model-path", Input)
        field.focus()
        await pilot.pause()
        await pilot.press("n", "2")
        assert field.value == "n2"  # typed, not a pane switch
        assert app.screen.query_one(TabbedContent).active == "models"
        await pilot.press("escape")
        await pilot.pause()
        assert field.value == "n2" and app.focused is app.screen.query_one("#models-pane")
        await pilot.press("3")
        await pilot.pause()
        assert app.screen.query_one(TabbedContent).active == "datasets"


async def test_alt_number_switches_panes_from_inside_a_field():
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        field = app.screen.query_one("#model-path", Input)
        field.focus()
        await pilot.pause()
        for key, pane in [("alt+2", "tokenizer"), ("alt+4", "training"), ("alt+1", "models")]:
            await pilot.press(key)
            await pilot.pause()
            assert app.screen.query_one(TabbedContent).active == pane
            assert _pane_has_focus(app, pane)
        assert field.value == ""


async def test_switching_moves_focus_into_the_shown_pane_so_its_keys_work():
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#model-path", Input).focus()
        await pilot.press("alt+2")
        await pilot.pause()
        assert _pane_has_focus(app, "tokenizer")
        # The Tokenizer pane's own keys are now active (they were not while a Models widget had focus).
        active = {binding.id for _, binding, _, _ in app.screen.active_bindings.values()}
        assert any(binding_id and binding_id.startswith("tokenizer.") for binding_id in active)


async def test_escape_outside_a_field_keeps_doing_what_the_pane_binds():
    """Escape on the Training pane's monitor still goes back to the list (the leave-field binding skips)."""
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await pilot.pause()
        pane = app.screen.query_one("#training-pane")
        pane.query_one("#monitor").focus()
        pane.query_one("ContentSwitcher").current = "monitor"
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert pane.view == "runs-view"
