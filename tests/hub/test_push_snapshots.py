"""Snapshots of the push dialog: ready (token masked), pushed, and each error state.

All against the fake Hub named http://hub.test (no random port on screen), with the run
folder from conftest (only its run id and final/ are shown, never the temporary path).
"""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, TextArea

from tests.hub.dialog_helpers import SIZE, open_dialog, quick_recheck, set_field, settle  # noqa: F401 (fixture)
from tests.hub.fake_hub import READ_TOKEN, WRITE_TOKEN
from workbench.ui.app import make_app


async def _type_token(pilot):
    await set_field(pilot, "#token-input", WRITE_TOKEN)


async def _push(pilot):
    await pilot.press("ctrl+s")
    await settle(pilot)


async def _foreign_namespace(pilot):
    await set_field(pilot, "#repo-input", "someone-else/bert-mrpc")


async def _pr_to_missing_repo(pilot):
    pilot.app.screen.query_one("#create-pr", Checkbox).value = True
    await set_field(pilot, "#repo-input", "big-lab/missing-model")


async def _bad_card(pilot):
    editor = pilot.app.screen.query_one("#card-editor", TextArea)
    editor.text = editor.text.replace("language:", "license: my-own-license\nlanguage:")
    await pilot.pause(0.5)
    await settle(pilot)


async def _nothing(pilot):
    return None


SCENARIOS = {
    # name: (HF_TOKEN, hub setup, action in the dialog)
    "ready_typed_token_masked": (None, None, _type_token),
    "pushed": (WRITE_TOKEN, None, _push),
    "error_no_token": (None, None, _nothing),
    "error_invalid_token_401": ("hf_thisTokenWasRevoked", None, _nothing),
    "error_read_only_token": (READ_TOKEN, None, _nothing),
    "error_forbidden_403": (WRITE_TOKEN, None, _foreign_namespace),
    "error_not_found": (WRITE_TOKEN, None, _pr_to_missing_repo),
    "error_exists_409": (WRITE_TOKEN, lambda hub: hub.add_repo("alice/bert-base-uncased-mrpc"), _nothing),
    "error_offline": (WRITE_TOKEN, "offline", _nothing),
    "error_network_mid_upload": (WRITE_TOKEN, lambda hub: hub.drop_next("commit"), _push),
    "error_invalid_card": (WRITE_TOKEN, None, _bad_card),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_push_dialog_snapshot(snap_compare, display_hub, run_dir, monkeypatch, scenario):
    """The dialog for one scenario: form, file list, card, and the problem banner (or the result)."""
    token, setup, action = SCENARIOS[scenario]
    if token:
        monkeypatch.setenv("HF_TOKEN", token)
    if setup == "offline":
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    elif setup is not None:
        setup(display_hub)
    app = make_app(probe_hub_on_start=False)
    screens = []

    async def run_before(pilot):
        await open_dialog(pilot, run_dir)
        await action(pilot)
        screens.append(pilot.app.export_screenshot())

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    assert WRITE_TOKEN not in screens[0] and READ_TOKEN not in screens[0]
