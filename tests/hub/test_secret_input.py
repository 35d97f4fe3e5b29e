"""Issue 19 item 10: a token typed into the push dialog never reaches Textual's log (TEXTUAL_LOG)."""

from __future__ import annotations

from textual import constants, events

from tests.hub.dialog_helpers import SIZE, open_dialog, settle  # noqa: F401 (fixture)
from workbench.ui.app import make_app
from workbench.ui.widgets.secret_input import MaskedText, SecretInput

TYPED = "hf_SeCrEtToKeN0123456789abcdefXYZ"
PASTED = "hf_PaStEdToKeN9876543210zyxwvuABC"


async def test_a_typed_token_never_reaches_the_textual_log(display_hub, run_dir, monkeypatch, tmp_path):
    log_file = tmp_path / "textual.log"
    # What TEXTUAL_LOG=... does: textual.constants reads it once at import, the logger writes there.
    monkeypatch.setattr(constants, "LOG_FILE", str(log_file))
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, run_dir)
        dialog.query_one("#token-input").focus()
        await pilot.pause()
        await pilot.press(*TYPED)
        await settle(pilot)
        field = dialog.query_one("#token-input")
        assert field.value == TYPED and dialog.query_one("#token-summary").render()  # the dialog still reads it
        field.value = ""
        app.post_message(events.Paste(PASTED))  # what the terminal driver sends for a paste
        await settle(pilot)
        assert field.value == PASTED
        changed = SecretInput.Changed(field, PASTED, None)  # how Input builds it: the value is dropped
        assert not hasattr(changed, "value") and PASTED not in repr(changed) and PASTED not in repr(field)
        assert PASTED not in repr(events.Paste(MaskedText(PASTED))) and MaskedText(PASTED) == PASTED
        app.log(dialog.query_one("#token-input"))  # a widget logged by hand shows no value either
        app.log(repr(dialog.query_one("#token-input")))
    text = log_file.read_text(encoding="utf-8")
    assert len(text) > 1000  # the log was written (keys, messages, workers)
    leaks = [
        secret[:length] for secret in (TYPED, PASTED) for length in range(4, len(secret) + 1) if secret[:length] in text
    ]
    assert not leaks, f"{len(leaks)} prefixes of the token in the log, the longest {len(leaks[-1])} characters"
