"""Typing into the Tokenizer pane: the live view equals the tokenizer's own output."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.widgets import Input, TabbedContent

from tests.tokenizer.helpers import SIZE, new_app, open_pane, set_options, settle
from workbench.ui.messages import SendToTokenizer


def embedded_hf():
    from transformers import AutoTokenizer

    from workbench.core.embedded import embedded_model_path

    return AutoTokenizer.from_pretrained(str(embedded_model_path()))


async def test_typing_retokenizes_each_keystroke():
    app = new_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        editor = pane.query_one("#tok-text")
        editor.focus()
        await pilot.press("f4")
        await pilot.press(*"Héllo wörld")
        await settle(pilot)
        hf = embedded_hf()
        assert [t.id for t in pane.result.windows[0].tokens] == hf("Héllo wörld")["input_ids"]
        status = str(pane.query_one("#tok-status").render())
        assert "11 chars" in status and "2 words" in status
        await pilot.press(*" ☃")
        await settle(pilot)
        assert any(t.unknown for t in pane.result.windows[0].tokens)
        assert pane.rendered_generation == pane.generation


async def test_options_give_the_same_windows_as_transformers():
    text = "The quick brown fox jumps over the lazy dog while the tokenizer counts every piece of it."
    app = new_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        pane.show_text(text, "a short pair")
        await set_options(pilot, pane, truncation="only_first", max_length="16", stride="3", padding="max_length")
        expected = embedded_hf()(
            text,
            "a short pair",
            truncation="only_first",
            max_length=16,
            stride=3,
            return_overflowing_tokens=True,
            padding="max_length",
        )
        assert [[t.id for t in w.tokens] for w in pane.result.windows] == expected["input_ids"]
        assert [[t.type_id for t in w.tokens] for w in pane.result.windows] == expected["token_type_ids"]
        assert "windows" in str(pane.query_one("#tok-status").render())


async def test_impossible_stride_is_a_message_not_a_crash():
    app = new_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await set_options(pilot, pane, truncation="longest_first", max_length="8", stride="7")
        assert "stride" in str(pane.query_one("#tok-status").render())
        await set_options(pilot, pane, stride="2")
        assert "⚠" not in str(pane.query_one("#tok-status").render())


async def test_send_to_tokenizer_opens_text_and_pair():
    app = new_app()
    async with app.run_test(size=SIZE) as pilot:
        app.post_message(SendToTokenizer("He said hello.", "She said hi."))
        await settle(pilot)
        pane = app.screen.query_one("#tokenizer-pane")
        assert app.screen.query_one("#panes", TabbedContent).active == "tokenizer"
        tokens = pane.result.windows[0].tokens
        assert {t.sequence for t in tokens} == {None, 0, 1}
        assert [t.type_id for t in tokens] == embedded_hf()("He said hello.", "She said hi.")["token_type_ids"]


async def test_large_paste_is_tokenized_in_the_background_and_summarised():
    text = ("the tokenizer keeps the interface responsive while it works. " * 5_000)[:300_000]
    app = new_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        editor = pane.query_one("#tok-text")
        editor.focus()
        editor.post_message(events.Paste(text))
        await pilot.pause()
        assert len(editor.text) < 10_000, "the megabyte must not go into the editor"
        await settle(pilot)
        assert pane.result.characters == 300_000
        drawn = pane.query_one("#tok-tokens-out").plain
        assert 0 < len(drawn) < 40_000
        await pilot.press("f4")
        await settle(pilot)
        assert pane.result.characters == 0 and not editor.read_only


async def test_batch_round_trip_and_code_views():
    app = new_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        pane.show_text("first line\nthe second line is longer", None)
        await settle(pilot)
        views = pane.query_one("#tok-views", TabbedContent)
        views.active = "view-batch"
        await settle(pilot)
        expected = embedded_hf()(["first line", "the second line is longer"], padding=True)["input_ids"]
        assert f"input_ids: 2 × {len(expected[0])}" in str(pane.query_one("#tok-batch-out").render())
        views.active = "view-roundtrip"
        await settle(pilot)
        assert "lossless" in str(pane.query_one("#tok-roundtrip-out").render()) or "lost" in str(
            pane.query_one("#tok-roundtrip-out").render()
        )
        pane.query_one("#tok-text").focus()
        await pilot.press("f9")
        await settle(pilot)
        assert views.active == "view-code"


async def test_train_then_compare_old_and_new(tmp_path: Path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["tokenizers learn pieces of frequent words", "frequent words become one token"] * 200))
    app = new_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        pane.show_text("frequent words become one token", None)
        pane.query_one("#tok-views", TabbedContent).active = "view-train"
        await pilot.pause()
        pane.query_one("#tok-train-source", Input).value = str(corpus)
        pane.query_one("#tok-train-vocab", Input).value = "200"
        pane.query_one("#tok-train-output", Input).value = str(tmp_path / "new-tokenizer")
        await pilot.pause()
        pane.query_one("#tok-train-start").press()
        await settle(pilot, rounds=6)
        assert (tmp_path / "new-tokenizer" / "tokenizer.json").exists()
        assert pane.query_one("#tok-views", TabbedContent).active == "view-compare"
        assert pane.compare_loaded is not None and pane.compare_loaded.vocab_size <= 300
        right = str(pane.query_one("#tok-compare-right").render())
        assert "new-tokenizer" in right and "tokens" in right


async def test_the_token_view_follows_the_caret():
    text = "\n".join(f"line {number}: tokenizers split words into pieces" for number in range(40))  # ~2,000 chars
    app = new_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        pane.show_text(text, None)
        await settle(pilot)
        view = pane.query_one("#tok-tokens-out")
        assert view.scroll_offset.y == 0
        editor = pane.query_one("#tok-text")
        editor.focus()
        editor.move_cursor(editor.document.end)
        await pilot.press(*" zqx")
        await settle(pilot)
        assert pane.result.text.endswith(" zqx")
        top, height = view.scroll_offset.y, view.scrollable_content_region.height
        on_screen = view.plain.splitlines()[top : top + height]
        assert top > 0 and any("zqx" in row for row in on_screen), "the tokens being typed are in sight"
        assert pane.rendered_generation == pane.generation


async def test_a_stride_without_truncation_shows_the_tokens_with_a_note():
    """Issue 22 item 12: the whole token view used to be replaced by a warning."""
    app = new_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        pane.show_text("Hello world", None)
        await set_options(pilot, pane, stride="3")
        assert "⚠" not in str(pane.query_one("#tok-status").render())
        assert pane.result is not None and len(pane.result.windows[0].tokens) == 4  # [CLS] hello world [SEP]
        rows = ["".join(text for text, _ in row) for row in pane.query_one("#tok-tokens-out")._lines]
        assert rows[0].startswith("note: stride 3 is ignored: it only applies with truncation on")
        assert any("hello" in row for row in rows[1:])
