"""Open the push dialog in the real app and wait until it has settled."""

from __future__ import annotations

import pytest
from textual.widgets import Input
from textual.worker import WorkerCancelled, WorkerFailed

from workbench.ui.hub.push_dialog import PushDialog
from workbench.ui.messages import PushRequested

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def quick_recheck(monkeypatch):
    """Tests set fields at once; no need to wait for typing to pause."""
    monkeypatch.setattr(PushDialog, "RECHECK_DELAY_S", 0.05)


async def settle(pilot) -> PushDialog:
    dialog = pilot.app.screen
    for _ in range(60):
        try:
            await pilot.app.workers.wait_for_complete()
        except (WorkerCancelled, WorkerFailed):
            pass  # a newer check replaced an older one (exclusive workers); keep waiting
        await pilot.pause(0.05)
        if isinstance(dialog, PushDialog) and not dialog.busy:
            break
    await pilot.pause()
    return dialog


async def open_dialog(pilot, run_dir) -> PushDialog:
    pilot.app.post_message(PushRequested(str(run_dir / "final"), str(run_dir)))
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, PushDialog)
    for field in dialog.query(Input):
        field.cursor_blink = False
    return await settle(pilot)


async def set_field(pilot, selector: str, value: str) -> PushDialog:
    dialog = pilot.app.screen
    dialog.query_one(selector, Input).value = value
    return await settle(pilot)
