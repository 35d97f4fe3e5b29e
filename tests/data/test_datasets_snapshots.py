"""Snapshots of the Datasets pane on the fixture files (no tmp paths on screen)."""

from __future__ import annotations

from tests.data.conftest import FIXTURES
from tests.data.test_datasets_pane import settle
from workbench.ui.app import make_app
from workbench.ui.data.pane import DatasetsPane

SIZE = (110, 32)


async def _open_reviews(pilot) -> None:
    await pilot.press("3")
    pilot.app.screen.query_one(DatasetsPane).open_path(FIXTURES / "reviews")
    await settle(pilot)


def test_browser(snap_compare):
    """The reviews folder: splits with row counts, features, guessed columns, the rows, cursor on row 2."""

    async def run_before(pilot) -> None:
        await _open_reviews(pilot)
        await pilot.press("down", "down")

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=run_before)


def test_search_results(snap_compare):
    """Searching "too" in every text column shows only row 5, with the count in the status line."""

    async def run_before(pilot) -> None:
        await _open_reviews(pilot)
        await pilot.press("slash", *"too", "enter")
        await settle(pilot)

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=run_before)


def test_statistics(snap_compare):
    """Statistics of the reviews train split: labels 6/6, character and token histograms, truncation, padding."""

    async def run_before(pilot) -> None:
        await _open_reviews(pilot)
        await pilot.press("s")
        await settle(pilot)

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=(110, 50), run_before=run_before)


def test_collator_preview(snap_compare, tmp_path, monkeypatch):
    """Prepared reviews: classes neg/pos, a validation split kept, and a padded batch of 4 as tokens and tensors."""
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path))  # a fresh cache: the status says "tokenized"

    async def run_before(pilot) -> None:
        await _open_reviews(pilot)
        await pilot.press("p", "p")
        await settle(pilot)

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=(110, 50), run_before=run_before)


def test_missing_header_offer(snap_compare, tmp_path, monkeypatch):
    """A CoLA-like TSV without a header row: the status line says line 1 looks like data, and the
    Open dialog is offered with "first line is a header" unticked and a field for column names."""
    from tests.data.test_no_header import COLA

    (tmp_path / "in_domain_train.tsv").write_text(COLA)
    monkeypatch.chdir(tmp_path)  # a relative path: no tmp path on screen

    async def run_before(pilot) -> None:
        await pilot.press("3")
        pilot.app.screen.query_one(DatasetsPane).open_path("in_domain_train.tsv")
        await settle(pilot)
        await pilot.pause()
        from textual.widgets import Input

        for field in pilot.app.screen.query(Input):  # the offered dialog's inputs: no blinking cursor
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=run_before)


def test_regression_statistics(snap_compare, tmp_path):
    """STS-B-like float scores: 'Labels · score (a regression target: value ranges)' with ranges
    0–0.5 … 3.5–4 and short numbers; lengths of sentence1 + sentence2; the guessed pair in the side panel."""
    from tests.data.test_columns import write_stsb

    path = write_stsb(tmp_path / "stsb.tsv")

    async def run_before(pilot) -> None:
        await pilot.press("3")
        pilot.app.screen.query_one(DatasetsPane).open_path(path)
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=(110, 50), run_before=run_before)
