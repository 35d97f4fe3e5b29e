"""The Tokenizer pane receiving a text and its pair from another pane (issue 22 item 8): both boxes
set, tokenized and drawn at once, at the width the view has on screen, with no key pressed."""

from __future__ import annotations

from textual.widgets import Input, TabbedContent

from tests.tokenizer.helpers import SIZE, new_app, open_pane, settle
from workbench.ui.messages import SendToTokenizer

LONG = "The committee met on Tuesday to discuss the budget that the finance ministry had sent to parliament."


def _drawn_lines(pane) -> list[str]:
    return [line.rstrip() for line in pane.query_one("#tok-tokens-out").plain.splitlines()]


async def test_a_sent_pair_is_tokenized_and_drawn_at_once_and_a_single_text_clears_the_pair():
    app = new_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        pair_box = pane.query_one("#tok-pair", Input)
        pair_box.value = "a pair typed by hand"
        pane.query_one("#tok-views", TabbedContent).active = "view-batch"
        await pilot.press("escape", "1")  # the pane is hidden when the row arrives
        await settle(pilot)

        app.post_message(SendToTokenizer(LONG, "The cabinet met."))
        await settle(pilot)
        assert app.screen.query_one("#panes", TabbedContent).active == "tokenizer"
        assert pane.query_one("#tok-views", TabbedContent).active == "view-tokens"
        assert pane.query_one("#tok-text").text == LONG and pair_box.value == "The cabinet met."
        assert app.focused is pane, "sent from another pane: 1-4 go back (they would type into the editor)"
        tokens = pane.result.windows[0].tokens
        texts = [t.text for t in tokens]
        assert texts.count("[SEP]") == 2 and texts[-5:] == ["the", "cabinet", "met", ".", "[SEP]"]
        assert [t.type_id for t in tokens] == [0] * (texts.index("[SEP]") + 1) + [1] * 5
        assert pane.rendered_generation == pane.generation
        lines = _drawn_lines(pane)
        assert lines[0].startswith("[CLS] The committee") and "The cabinet met.[SEP]" in lines
        width = pane.query_one("#tok-tokens-out").wrap_width
        assert width > 60 and width - 20 < max(map(len, lines)) <= width, "wrapped to the view, not a fallback"

        app.post_message(SendToTokenizer("A single sentence."))
        await settle(pilot)
        assert pair_box.value == "", "a row without a pair does not keep the previous one"
        assert {t.type_id for t in pane.result.windows[0].tokens} == {0}
        assert _drawn_lines(pane)[0] == "[CLS] A single sentence.[SEP]"
