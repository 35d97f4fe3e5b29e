"""The head report takes its colours from the theme (head-kept, head-new, head-error)."""

from __future__ import annotations

from textual.widgets import TabbedContent

from workbench.ui.app import make_app

SIZE = (110, 34)

THEME = """
name = "test-heads"
dark = true
primary = "#22C55E"

[variables]
head-kept = "#60A5FA"
head-new = "#F472B6"
head-error = "#FB923C"
"""


async def _settle(pilot, rounds: int = 6) -> None:
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _styles(text) -> set[str]:
    return {str(span.style) for span in text.spans} | {str(text.style)}


async def test_a_user_theme_recolours_the_head_report(isolated_dirs, monkeypatch):
    themes = isolated_dirs / "config" / "themes"
    themes.mkdir(parents=True, exist_ok=True)
    (themes / "test-heads.toml").write_text(THEME, encoding="utf-8")
    monkeypatch.setenv("WORKBENCH_THEME", "test-heads")
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "test-heads"
        pane = app.screen.query_one("#models-pane")
        pane.query_one("#model-tabs", TabbedContent).active = "model-heads-tab"
        await _settle(pilot)
        pane.select_head("masked-lm")  # the embedded encoder has no masked-LM weights: a new head
        await pilot.pause()
        styles = _styles(pane.query_one("#head-detail").content)
        assert "#60A5FA" in styles  # kept from the checkpoint
        assert "bold #F472B6" in styles and "#F472B6" in styles  # new (random)
        pane.apply_labels("a, a")  # a duplicate label: the error in the theme's colour
        await pilot.pause()
        assert "bold #FB923C" in _styles(pane.query_one("#head-detail").content)


def test_a_theme_file_with_a_head_colour_that_is_not_one_is_skipped(tmp_path):
    from workbench.ui.themes import load_theme_folder

    (tmp_path / "bad.toml").write_text(THEME.replace("#60A5FA", "blue-ish"), encoding="utf-8")
    themes, problems = load_theme_folder(tmp_path)
    assert themes == [] and "head-kept" in str(problems[0]) and "not a colour" in str(problems[0])
