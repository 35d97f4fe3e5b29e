"""Panes are built the first time they are needed, so the first screen is ready sooner."""

from __future__ import annotations

from textual.widgets import TabbedContent

from workbench.ui.app import make_app
from workbench.ui.messages import SendToTokenizer
from workbench.ui.shell.main_screen import PANE_IDS


def built(app) -> list[str]:
    return [pane_id for pane_id in PANE_IDS if app.main_screen.query(f"#{pane_id}-pane")]


async def test_only_the_first_pane_is_built_at_start_and_a_key_builds_the_next():
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(110, 32)) as pilot:
        assert built(app) == ["models"]
        await pilot.press("3")
        assert built(app) == ["models", "datasets"]
        # Built with its children, and shown.
        assert app.screen.query_one("#datasets-pane").query("*")
        assert app.screen.query_one("#panes", TabbedContent).active == "datasets"
        await pilot.press("1", "3")
        assert len(app.screen.query("#datasets-pane")) == 1, "a pane is built once"


async def test_a_click_on_a_tab_builds_its_pane():
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.click("#--content-tab-training")
        await pilot.pause()
        assert "training" in built(app)
        assert app.screen.query_one("#panes", TabbedContent).active == "training"


async def test_work_routed_to_a_pane_never_shown_builds_it_first():
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(110, 32)) as pilot:
        app.post_message(SendToTokenizer("routed before the pane existed"))

        def shown() -> bool:
            editors = app.screen.query("#tokenizer-pane #tok-text")
            return bool(editors) and "routed before the pane existed" in editors.first().text

        for _ in range(100):  # the pane builds its body on first show; slow on a busy machine
            if shown():
                break
            await pilot.pause(0.1)
        assert app.screen.query_one("#panes", TabbedContent).active == "tokenizer"
        assert shown()


async def test_palette_offers_the_commands_of_panes_never_shown():
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert built(app) == PANE_IDS
        labels = {command.label for command in app.palette_commands()}
        namespaces = {label.split(":")[0] for label in labels}
        assert {"pane", "model", "tokenizer", "data", "run"} <= namespaces, namespaces


async def test_attach_opens_on_the_training_pane_without_building_the_others(tmp_path):
    app = make_app(probe_hub_on_start=False, attach_run=str(tmp_path / "no-such-run"))
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.pause()
        assert built(app) == ["training"]
        assert app.screen.query_one("#panes", TabbedContent).active == "training"


async def test_panes_are_prebuilt_one_by_one_once_keys_are_quiet(monkeypatch):
    from workbench.ui.shell.main_screen import MainScreen

    monkeypatch.setenv("WORKBENCH_PREBUILD_AFTER", "60")  # on, but the test starts it itself
    monkeypatch.setattr(MainScreen, "PREBUILD_QUIET", 2.0)  # the press itself may take a while on a busy machine
    monkeypatch.setattr(MainScreen, "PREBUILD_GAP", 0.05)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press("down")
        app.main_screen._prebuild_next()  # right after a key: it waits for the keys to be quiet
        assert built(app) == ["models"]
        for _ in range(100):
            if built(app) == PANE_IDS:
                break
            await pilot.pause(0.1)
        assert built(app) == PANE_IDS
        assert app.screen.query_one("#panes", TabbedContent).active == "models", "prebuilding never switches tabs"
        await app.main_screen.builds_settled()


def test_prebuilding_can_be_switched_off(monkeypatch):
    from workbench.ui.shell.main_screen import MainScreen, prebuild_delay

    monkeypatch.setenv("WORKBENCH_PREBUILD_AFTER", "off")
    assert prebuild_delay() is None
    monkeypatch.setenv("WORKBENCH_PREBUILD_AFTER", "2.5")
    assert prebuild_delay() == 2.5
    monkeypatch.setenv("WORKBENCH_PREBUILD_AFTER", "soon")
    assert prebuild_delay() == MainScreen.PREBUILD_AFTER


async def test_quitting_while_a_pane_is_being_built_waits_for_it():
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(110, 32)) as pilot:
        app.main_screen.ensure_pane("training")
        await pilot.press("ctrl+q")
    assert app.return_code == 0
    assert app.main_screen is None or app.main_screen.query_one("#training-pane").query("#monitor")


async def test_prebuilding_waits_while_background_work_runs(monkeypatch):
    import threading

    from textual import work

    from workbench.ui.shell.main_screen import MainScreen

    monkeypatch.setenv("WORKBENCH_PREBUILD_AFTER", "60")
    monkeypatch.setattr(MainScreen, "PREBUILD_QUIET", 0.05)
    monkeypatch.setattr(MainScreen, "PREBUILD_GAP", 0.05)
    release = threading.Event()
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(110, 32)) as pilot:

        @work(thread=True, group="follow")
        def follow_a_run(_) -> None:
            release.wait(10)

        follow_a_run(app.main_screen)
        await pilot.pause(0.2)
        app.main_screen._prebuild_next()
        await pilot.pause(0.3)
        assert built(app) == ["models"], "nothing is built while a worker runs"
        release.set()
        for _ in range(100):
            if built(app) == PANE_IDS:
                break
            await pilot.pause(0.1)
        assert built(app) == PANE_IDS
        await app.main_screen.builds_settled()
