"""Driving the Tokenizer pane in tests."""

from __future__ import annotations

from textual.widgets import Input, Select

from workbench.ui.app import make_app

SIZE = (120, 36)


def new_app():
    app = make_app(probe_hub_on_start=False)
    # The tab underline slides when a tab is shown; a snapshot must not catch it mid-way.
    app.animation_level = "none"
    return app


async def settle(pilot, rounds: int = 4) -> None:
    """Workers post messages whose handlers may start more workers: wait until all is quiet."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.wait_for_scheduled_animations()


async def open_pane(pilot):
    await pilot.press("2")
    await settle(pilot)
    pane = pilot.app.screen.query_one("#tokenizer-pane")
    assert pane.loaded is not None, "the tokenizer did not load"
    # The views' tab underline is placed after the first layout, sometimes at zero width:
    # switching tabs once places it where the laid-out tab is, the same in every run.
    views = pane.query_one("#tok-views")
    views.active = "view-code"
    await pilot.pause()
    views.active = "view-tokens"
    await settle(pilot)
    return pane


async def set_options(pilot, pane, **values) -> None:
    """Set option widgets by id suffix: truncation="only_first", max_length="12", ..."""
    for name, value in values.items():
        widget = pane.query_one(f"#opt-{name.replace('_', '-')}")
        if isinstance(widget, Select):
            widget.value = value
        elif isinstance(widget, Input):
            widget.value = str(value)
        else:
            widget.value = value
        await pilot.pause()
    await settle(pilot)
