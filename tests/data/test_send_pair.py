""" "Send to tokenizer" sends the row's text and its pair, and the Tokenizer shows them at once
(issue 22 item 8): it sent the text alone and left a stale token view until the next key."""

from __future__ import annotations

from textual.widgets import Input, TabbedContent

from tests.data.test_columns import PREMISE, write_rte
from tests.tokenizer.helpers import settle
from workbench.ui.app import make_app
from workbench.ui.data.pane import DatasetsPane
from workbench.ui.tokenizer.pane import TokenizerPane

SIZE = (120, 36)


async def _open_rte(pilot, path) -> DatasetsPane:
    await pilot.press("alt+3")  # from anywhere: the Tokenizer's editor may have the focus
    pane = pilot.app.screen.query_one(DatasetsPane)
    pane.open_path(path)
    await settle(pilot)
    for _ in range(100):
        if not pane.busy:
            break
        await pilot.pause(0.05)
    assert pilot.app.active_dataset.text_pair_column == "sentence2"
    return pane


def _assert_shows_the_pair(tokenizer: TokenizerPane, row: int) -> None:
    editor, pair = tokenizer.query_one("#tok-text"), tokenizer.query_one("#tok-pair", Input)
    assert editor.text == f"{PREMISE} Item {row}." and pair.value == "The cabinet met."
    tokens = tokenizer.result.windows[0].tokens
    assert [t.text for t in tokens].count("[SEP]") == 2, "text [SEP] pair [SEP]"
    # Token type ids: 0 up to and including the first [SEP], 1 after it.
    first_sep = [t.text for t in tokens].index("[SEP]")
    assert {t.type_id for t in tokens[: first_sep + 1]} == {0}
    assert {t.type_id for t in tokens[first_sep + 1 :]} == {1}
    assert "cabinet" in [t.text for t in tokens[first_sep + 1 :]]
    # What is drawn is this result, not the previous text's (no key was pressed since).
    assert tokenizer.rendered_generation == tokenizer.generation
    drawn = tokenizer.query_one("#tok-tokens-out").plain
    assert drawn.count("[SEP]") >= 2 and "cabinet" in drawn and "Tokenizers split" not in drawn
    # Wrapped to the view's width as it is on screen (it was wrapped to a fallback of 40 columns,
    # measured while the pane was still hidden, until a key re-tokenized).
    output = tokenizer.query_one("#tok-tokens-out")
    width = output.scrollable_content_region.width
    assert width > 60
    longest = max(len(line) for line in drawn.splitlines())
    assert width - 20 < longest < width, (longest, width)


async def test_t_sends_text_and_pair_and_the_token_view_shows_both(tmp_path):
    path = write_rte(tmp_path / "rte.tsv")
    app = make_app(probe_hub_on_start=False)
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        # The Tokenizer is built and shows its sample text first: the view must not stay on it.
        await pilot.press("2")
        await settle(pilot)
        tokenizer = app.screen.query_one(TokenizerPane)
        assert tokenizer.loaded is not None and "Tokenizers split" in tokenizer.query_one("#tok-tokens-out").plain

        datasets = await _open_rte(pilot, path)
        await pilot.press("down", "down", "t")
        await settle(pilot)
        assert app.screen.query_one("#panes", TabbedContent).active == "tokenizer"
        _assert_shows_the_pair(tokenizer, 2)

        # The row detail dialog's "send" does the same.
        await pilot.press("alt+3")  # from anywhere: the Tokenizer's editor may have the focus
        await pilot.pause()
        datasets.query_one("#datasets-table").focus()
        await pilot.press("down", "enter")
        assert type(app.screen).__name__ == "RowDetailDialog"
        await pilot.press("t")
        await settle(pilot)
        assert app.screen.query_one("#panes", TabbedContent).active == "tokenizer"
        _assert_shows_the_pair(tokenizer, 3)


async def test_a_row_sent_before_the_tokenizer_was_ever_shown_is_tokenized_with_its_pair(tmp_path):
    path = write_rte(tmp_path / "rte.tsv")
    app = make_app(probe_hub_on_start=False)
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        await _open_rte(pilot, path)
        await pilot.press("t")
        await settle(pilot)
        tokenizer = app.screen.query_one(TokenizerPane)
        assert tokenizer.loaded is not None
        _assert_shows_the_pair(tokenizer, 0)
