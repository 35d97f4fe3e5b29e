"""Pilot tests of the shell: panes by key, the palette, themes and settings problems."""

from __future__ import annotations

import tomllib
from textual.widgets import TabbedContent, TextArea

from workbench.core import paths
from workbench.ui.app import make_app
from workbench.ui.shell.header import WorkbenchHeader
from workbench.ui.shell.help_screen import HelpScreen


async def test_number_keys_switch_panes():
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(110, 32)) as pilot:
        tabs = app.screen.query_one(TabbedContent)
        assert tabs.active == "models"
        for key, pane in [("2", "tokenizer"), ("3", "datasets"), ("4", "training"), ("1", "models")]:
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == pane
            if isinstance(app.focused, TextArea):  # the Tokenizer focuses its editor: esc leaves it, then keys switch
                await pilot.press("escape")


async def test_palette_runs_a_namespaced_command():
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"pane: datasets")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one(TabbedContent).active == "datasets"


async def test_help_screen_lists_pane_keys():
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        descriptions = {description for _, description, _ in app.collect_bindings()}
        assert {"Models", "Tokenizer", "Datasets", "Training", "Help"} <= descriptions
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_theme_switch_is_persisted():
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(110, 32)) as pilot:
        assert app.theme == "workbench-dusk"
        app.theme = "workbench-paper"
        await pilot.pause()
    saved = tomllib.loads(paths.config_file().read_text())
    assert saved["theme"] == "workbench-paper"
    reopened = make_app(probe_hub_on_start=False)
    assert reopened.theme == "workbench-paper"


async def test_broken_theme_file_is_named_and_skipped(tmp_path):
    user_themes = paths.user_themes_dir()
    user_themes.mkdir(parents=True)
    (user_themes / "neon.toml").write_text('name = "neon"\nprimary = "not-a-colour"\n')
    (user_themes / "garbage.toml").write_text("this is = = not toml")
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.pause()
        messages = [notification.message for notification in app._notifications]
        assert any("neon.toml" in message and "primary" in message for message in messages)
        assert any("garbage.toml" in message for message in messages)
        assert "neon" not in app.available_themes
        assert app.theme == "workbench-dusk"


async def test_unknown_config_key_is_reported_by_name():
    paths.config_file().parent.mkdir(parents=True)
    paths.config_file().write_text('theme = "workbench-paper"\ncolour_scheme = "blue"\n')
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.pause()
        messages = [notification.message for notification in app._notifications]
        assert any("colour_scheme" in message for message in messages)
        assert app.theme == "workbench-paper"
    # The unknown key is kept when the app writes settings back.
    app2 = make_app(probe_hub_on_start=False)
    async with app2.run_test(size=(110, 32)) as pilot:
        app2.theme = "workbench-dusk"
        await pilot.pause()
    assert 'colour_scheme = "blue"' in paths.config_file().read_text()


async def test_header_shows_model_and_offline_hub():
    app = make_app(probe_hub_on_start=True)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.pause()
        header = app.screen.query_one(WorkbenchHeader)
        assert header.hub_status == "offline"  # HF_HUB_OFFLINE=1 in tests
        assert "MiniLM" in header.active_model
