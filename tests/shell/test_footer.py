"""The footer rebuilds its keys only when the shown keys change."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Button

from workbench.ui.shell.footer import WorkbenchFooter


class KeyedButton(Button):
    BINDINGS = [Binding("x", "press", "Extra", id="test.extra", tooltip="An extra key")]


class FooterApp(App):
    BINDINGS = [Binding("q", "quit", "Quit", id="test.quit", tooltip="Quit")]

    def compose(self) -> ComposeResult:
        yield Button("one", id="one")
        yield Button("two", id="two")
        yield KeyedButton("three", id="three")
        yield WorkbenchFooter()


def labels(footer: WorkbenchFooter) -> list[str]:
    return [str(key.description) for key in footer.query("FooterKey")]


async def test_focus_moves_with_the_same_keys_do_not_rebuild_the_footer(monkeypatch):
    app = FooterApp()
    rebuilds = []
    real_recompose = WorkbenchFooter.recompose

    async def counting_recompose(self):
        rebuilds.append(self.shown_keys())
        await real_recompose(self)

    monkeypatch.setattr(WorkbenchFooter, "recompose", counting_recompose)
    async with app.run_test(size=(80, 10)) as pilot:
        footer = app.query_one(WorkbenchFooter)
        app.set_focus(app.query_one("#one"))
        await pilot.pause()
        before = len(rebuilds)
        assert "Extra" not in labels(footer)
        app.set_focus(app.query_one("#two"))  # same keys
        await pilot.pause()
        assert len(rebuilds) == before
        app.set_focus(app.query_one("#three"))  # one more key
        await pilot.pause()
        assert len(rebuilds) == before + 1
        assert "Extra" in labels(footer) and "Quit" in labels(footer)
