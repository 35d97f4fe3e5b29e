"""Snapshots of the Tokenizer pane's views, with the embedded WordPiece tokenizer loaded."""

from __future__ import annotations

import os

from textual.widgets import Input, TabbedContent

from tests.tokenizer.helpers import SIZE, new_app, open_pane, set_options, settle

TEXT = "Héllo wörld! Tokenizers don't see ☃ snowmen."


def test_single_text(snap_compare):
    """Coloured tokens under the text, [CLS]/[SEP] marked, ☃ as a red [UNK]; the token/id/word/mask table;
    counts on top."""

    async def run_before(pilot):
        pane = await open_pane(pilot)
        pane.show_text(TEXT, None)
        await settle(pilot)

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)


def test_sentence_pair(snap_compare):
    """The pair follows the first [SEP] on its own line; the table gains a type row with 1s for the pair."""

    async def run_before(pilot):
        pane = await open_pane(pilot)
        pane.show_text("The cat sat on the mat.", "A cat was sitting.")
        await settle(pilot)

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)


def test_truncated_with_overflow_windows(snap_compare):
    """max_length 12, stride 3: windows one after another, each naming its characters and the tokens shared
    with the previous one (underlined)."""

    async def run_before(pilot):
        pane = await open_pane(pilot)
        pane.show_text("The tokenizer cuts long texts into windows that overlap by the stride.", None)
        await set_options(pilot, pane, truncation="longest_first", max_length="12", stride="3")

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)


def test_truncated_without_windows_shows_the_cut(snap_compare):
    """Overflow windows off: the dropped end of the text is struck through after a ✂ mark; the status counts it."""

    async def run_before(pilot):
        pane = await open_pane(pilot)
        pane.show_text("The tokenizer keeps the first tokens and drops the rest of this sentence.", None)
        await set_options(pilot, pane, truncation="longest_first", max_length="8", overflow=False)

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)


def test_batch_view(snap_compare):
    """Three lines as one padded batch: a token grid with [PAD] cells greyed, then the attention mask grid."""

    async def run_before(pilot):
        pane = await open_pane(pilot)
        pane.show_text("A short line.\nA somewhat longer second line here.\nThird.", None)
        await settle(pilot)
        pane.query_one("#tok-views", TabbedContent).active = "view-batch"
        await settle(pilot)

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)


def test_compare_view(snap_compare, tokenizer_dirs, monkeypatch):
    """Embedded WordPiece (left) against a small byte-level BPE (right): counts and underlined tokens whose
    splits differ."""
    monkeypatch.chdir(tokenizer_dirs["bytelevel-bpe"].parent)  # a relative path keeps tmp folders off the screen
    assert os.path.isdir("bytelevel-bpe")

    async def run_before(pilot):
        pane = await open_pane(pilot)
        pane.show_text("the tokenizer splits Hello café", None)
        pane.query_one("#tok-views", TabbedContent).active = "view-compare"
        compare_path = pane.query_one("#tok-compare-path", Input)
        compare_path.value = "bytelevel-bpe"
        await pilot.pause()
        compare_path.focus()
        await pilot.press("enter")
        await settle(pilot)
        pane.query_one("#tok-text").focus()
        await pilot.pause()

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)


def test_single_text_in_a_user_theme(snap_compare, monkeypatch, isolated_dirs):
    """A user theme file (tests/tokenizer/themes/test-tokens.toml) recolours the tokens: chips alternate
    dark red and dark blue (token-a, token-b), [CLS]/[SEP] on green (token-special), ☃'s [UNK] on pink
    (token-unknown), in the table too."""
    import shutil
    from pathlib import Path

    themes = isolated_dirs / "config" / "themes"
    themes.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(__file__).parent / "themes" / "test-tokens.toml", themes)
    monkeypatch.setenv("WORKBENCH_THEME", "test-tokens")

    async def run_before(pilot):
        assert pilot.app.theme == "test-tokens"
        pane = await open_pane(pilot)
        pane.show_text(TEXT, None)
        await settle(pilot)

    assert snap_compare(new_app(), terminal_size=SIZE, run_before=run_before)
