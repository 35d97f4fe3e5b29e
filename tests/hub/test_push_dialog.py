"""The push dialog driven by keys against the fake Hub: flows, error states, the token kept out of sight."""

from __future__ import annotations

from textual.widgets import Button, Checkbox, Input, TextArea

from tests.hub.dialog_helpers import SIZE, open_dialog, quick_recheck, set_field, settle  # noqa: F401 (fixture)
from tests.hub.fake_hub import WRITE_TOKEN
from workbench.ui.app import make_app

REPO = "alice/bert-base-uncased-mrpc"


async def test_push_flow_then_repush_is_up_to_date(display_hub, run_dir, monkeypatch):
    from workbench.ui.hub.push_dialog import PushDialog

    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    app = make_app(probe_hub_on_start=False)
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        dialog = await open_dialog(pilot, run_dir)
        assert dialog.query_one("#repo-input", Input).value == REPO  # namespace from whoami, name from the run
        assert dialog.account.name == "alice" and dialog.problem is None
        assert [f.status for f in dialog.preflight.files] == ["new"] * 5
        assert "model-index" in dialog.query_one("#card-editor", TextArea).text
        await pilot.press("ctrl+s")
        dialog = await settle(pilot)
        assert dialog.state == "done" and dialog.result.created_repo
        assert dialog.result.commit_id == display_hub.repo(REPO).head("main").oid
        assert dialog.result.repo_url == f"http://hub.test/{REPO}"
        assert [f.status for f in dialog.preflight.files] == ["unchanged"] * 5
        kinds = [type(m).__name__ for m in messages if type(m).__name__ in ("PushProgressed", "PushFinished")]
        assert kinds[-1] == "PushFinished" and "PushProgressed" in kinds
        assert "Pushed 5 file(s)" in str(dialog.query_one("#push-result").render())
        await pilot.press("ctrl+s")
        dialog = await settle(pilot)
        assert dialog.result.nothing_changed
        assert display_hub.repo(REPO).commit_count() == 2
        assert "Up to date" in str(dialog.query_one("#push-result").render())
        # reopened later, the run remembers where it went: same repository, no "exists" question
        await pilot.press("escape")
        dialog = await open_dialog(pilot, run_dir)
        assert isinstance(dialog, PushDialog) and dialog.query_one("#repo-input", Input).value == REPO
        assert dialog.problem is None


async def test_edited_card_and_options_are_pushed(display_hub, run_dir, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, run_dir)
        editor = dialog.query_one("#card-editor", TextArea)
        editor.text = editor.text.replace("language:", "license: mit\nlanguage:")
        dialog.query_one("#private", Checkbox).value = True
        dialog.query_one("#message-input", Input).value = "First MRPC model"
        dialog = await set_field(pilot, "#exclude-input", "*.tmp, vocab.txt")
        assert [f.path_in_repo for f in dialog.preflight.files] == [
            "README.md",
            "config.json",
            "model.safetensors",
            "tokenizer_config.json",
        ]
        await pilot.press("ctrl+s")
        await settle(pilot)
        repo = display_hub.repo(REPO)
        assert repo.private and repo.head("main").message == "First MRPC model"
        assert "license: mit" in display_hub.file(REPO, "README.md").decode()
        assert "vocab.txt" not in repo.head("main").files


async def test_exists_offers_push_into_it(display_hub, run_dir, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    display_hub.add_repo(REPO, {"notes.txt": b"old"})
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, run_dir)
        assert dialog.problem.kind == "exists"
        button = dialog.query_one("#push", Button)
        assert not button.disabled and str(button.label) == "Push into existing"
        await pilot.click("#push")
        dialog = await settle(pilot)
        assert dialog.state == "done" and not dialog.result.created_repo
        assert "config.json" in display_hub.repo(REPO).head("main").files


async def test_forbidden_namespace_then_use_my_namespace(display_hub, run_dir, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, run_dir)
        dialog = await set_field(pilot, "#repo-input", "someone-else/bert")
        assert dialog.problem.kind == "forbidden" and dialog.query_one("#push", Button).disabled
        assert dialog.query_one("#use-namespace").display and dialog.query_one("#use-pr").display
        await pilot.click("#use-namespace")
        dialog = await settle(pilot)
        assert dialog.query_one("#repo-input", Input).value == "alice/bert" and dialog.problem is None


async def test_login_with_typed_token_stores_it(display_hub, run_dir, monkeypatch):
    """Log in stores a typed token; the token never reaches the screen or a worker's (logged) description."""
    from huggingface_hub import constants
    from textual.worker import Worker

    descriptions = []
    original_init = Worker.__init__

    def recording_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        descriptions.append(self.description)

    monkeypatch.setattr(Worker, "__init__", recording_init)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, run_dir)
        assert dialog.problem.kind == "no_token"
        dialog.query_one("#token-input", Input).focus()
        dialog.query_one("#token-input", Input).value = WRITE_TOKEN
        dialog = await settle(pilot)
        assert dialog.problem is None and dialog.account.name == "alice"
        assert WRITE_TOKEN not in app.export_screenshot()
        await pilot.click("#login")
        dialog = await settle(pilot)
        assert open(constants.HF_TOKEN_PATH).read().strip() == WRITE_TOKEN
        assert dialog.query_one("#token-input", Input).value == ""
        assert "stored token" in str(dialog.query_one("#token-summary").render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert dialog.state == "done"
    assert any(d.startswith("login(") for d in descriptions) and any(d.startswith("upload(") for d in descriptions)
    assert not any(WRITE_TOKEN in d for d in descriptions)


async def test_cancel_during_upload(display_hub, run_dir, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, run_dir)
        display_hub.delays["preupload"] = 0.25
        await pilot.press("ctrl+s")
        while display_hub.count("POST", "/preupload/") < 1:
            await pilot.pause(0.05)
        await pilot.press("escape")  # cancels the upload, does not close the dialog
        dialog = await settle(pilot)
        assert app.screen is dialog and dialog.problem.kind == "cancelled"
        assert display_hub.count("POST", "/commit/") == 0
        await pilot.press("escape")
        assert app.screen is not dialog


async def test_network_failure_then_push_again(display_hub, run_dir, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, run_dir)
        display_hub.drop_next("commit")
        await pilot.press("ctrl+s")
        dialog = await settle(pilot)
        assert dialog.problem.kind == "network" and not dialog.query_one("#push", Button).disabled
        await pilot.press("ctrl+s")
        dialog = await settle(pilot)
        assert dialog.state == "done" and len(dialog.result.uploaded) == 5


async def test_palette_command_pushes_latest_run(display_hub, monkeypatch):
    from tests.hub.conftest import write_run_folder
    from workbench.core.settings import load_settings
    from workbench.ui.hub.push_dialog import PushDialog

    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    write_run_folder(load_settings().runs_path)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        command = next(c for c in app.palette_commands() if c.label == "hub: push")
        command.callback()
        await pilot.pause()
        assert isinstance(app.screen, PushDialog) and app.screen.run_dir is not None


async def test_the_cards_usage_example_names_the_repository_not_the_run(display_hub, run_dir, monkeypatch):
    """Issue 22 item 11: the card was generated before the repository was known, so it named the run id."""
    from tests.hub.conftest import RUN_ID

    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, run_dir)
        card = dialog.query_one("#card-editor", TextArea).text
        assert f'model="{REPO}"' in card and f'model="{RUN_ID}"' not in card
        # Another repository: a card nobody edited follows it; an edited card is left alone.
        dialog = await set_field(pilot, "#repo-input", "alice/other-name")
        assert 'model="alice/other-name"' in dialog.query_one("#card-editor", TextArea).text
        editor = dialog.query_one("#card-editor", TextArea)
        editor.text = editor.text + "\nMy own notes.\n"
        dialog = await set_field(pilot, "#repo-input", "alice/third-name")
        assert "My own notes." in editor.text and 'model="alice/other-name"' in editor.text
