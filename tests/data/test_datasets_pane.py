"""Pilot tests of the Datasets pane: open, browse, jump, search, filter, statistics, prepare.

Few tests that each drive a whole flow: every app start costs seconds.
"""

from __future__ import annotations

from workbench.ui.app import make_app
from workbench.ui.data.pane import DatasetsPane
from workbench.ui.data.query import FilterBar
from workbench.ui.data.table import DatasetTable
from workbench.ui.messages import ActiveDatasetChanged, SendToTokenizer
from workbench.ui.tokenizer.pane import TokenizerPane

SIZE = (110, 32)


async def settle(pilot) -> None:
    """Wait for the workers, then for their last messages to be handled (slow on a busy machine)."""
    await pilot.app.workers.wait_for_complete()
    pane = pilot.app.screen.query_one(DatasetsPane) if pilot.app.screen.query(DatasetsPane) else None
    for _ in range(200):
        await pilot.pause()
        if pane is None or not pane.busy:
            break
    await pilot.pause()


async def open_in_pane(pilot, path, **options) -> DatasetsPane:
    await pilot.press("3")
    pane = pilot.app.screen.query_one(DatasetsPane)
    pane.open_path(path, **options)
    await settle(pilot)
    return pane


def status(pane: DatasetsPane) -> str:
    return str(pane.query_one("#datasets-status").content)


async def test_open_browse_jump_details_splits_and_send_to_tokenizer(fixtures, monkeypatch):
    received = []
    monkeypatch.setattr(
        TokenizerPane, "show_text", lambda self, text, pair=None: received.append((text, pair)), raising=False
    )
    seen = []
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        pane = await open_in_pane(pilot, fixtures / "reviews")
        assert app.active_dataset["splits"] == ["train", "validation", "test"]
        assert app.active_dataset["label_names"] == ["neg", "pos"]
        assert app.active_dataset["task"] == "classification"
        assert app.active_dataset["text_column"] == "text" and app.active_dataset["text_pair_column"] is None
        assert any(isinstance(m, ActiveDatasetChanged) for m in seen)
        table = pane.query_one(DatasetTable)
        assert table.total == 12 and app.focused is table
        await pilot.press("end")
        assert table.cursor_row == 11
        await pilot.press("g", "4", "enter")
        assert table.cursor_row == 4
        await pilot.press("down", "down")
        assert table.cursor_row == 6 and "train · row 6 of 12" in status(pane)
        await pilot.press("enter")
        assert type(app.screen).__name__ == "RowDetailDialog"
        await pilot.press("escape")
        assert app.screen.query_one(DatasetsPane) is pane

        await pilot.press("home", "down", "t")
        await pilot.pause()
        sent = {id(m): m for m in seen if isinstance(m, SendToTokenizer)}  # the hook sees each hop of a bubble
        assert [(m.text, m.pair) for m in sent.values()] == [("The plot drags and the jokes fall flat.", None)]
        assert received == [("The plot drags and the jokes fall flat.", None)]

        await pilot.press("3")
        pane.query_one("#datasets-splits").highlighted = 1
        await pilot.pause()
        assert pane.split == "validation" and pane.query_one(DatasetTable).total == 4


async def test_search_and_filter_show_matching_rows(fixtures):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_in_pane(pilot, fixtures / "reviews")
        await pilot.press("slash", *"too", "enter")
        await settle(pilot)
        table = pane.query_one(DatasetTable)
        assert pane.query_matches.tolist() == [5]
        assert table.total == 1 and table.pager.source_row(0) == 5
        assert "search 'too' in text columns: 1 matches" in status(pane)
        await pilot.press("escape")  # search finished: esc clears results
        assert table.total == 12 and pane.query_matches is None

        await pilot.press("f")
        bar = pane.query_one(FilterBar)
        bar.query_one("#datasets-filter-column").value = "label"
        bar.query_one("#datasets-filter-operator").value = "=="
        bar.query_one("#datasets-filter-value").focus()
        await pilot.press(*"neg", "enter")
        await settle(pilot)
        assert pane.query_matches.tolist() == [1, 3, 5, 7, 9, 11]


async def test_statistics_prepare_and_show_code(fixtures):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_in_pane(pilot, fixtures / "reviews")
        await pilot.press("s")
        await settle(pilot)
        view = pane.query_one("#datasets-stats-view")
        result = view.result
        assert result.labels == [("neg", 6), ("pos", 6)]
        assert len(result.token_lengths) == 12 and result.char_lengths.tolist()[0] == 41
        assert "max_length 128 truncates 0.0% of the examples" in str(pane.query_one("#datasets-stats-body").content)
        view.query_one("#datasets-stats-max-length").value = "10"
        await pilot.pause()
        body = str(pane.query_one("#datasets-stats-body").content)
        expected = int((result.token_lengths > 10).sum())
        assert f"({expected:,} of 12)" in body and "fixed to 10" in body

        await pilot.press("p")  # shows the view
        pane.query_one("#datasets-prepare-label").value = "text"
        await pilot.press("p")  # runs it: text mapped twice
        await settle(pilot)
        assert pane.prepared is None
        assert "mapped twice" in str(pane.query_one("#datasets-prepare-body").content)

        pane.query_one("#datasets-prepare-label").value = "label"
        await pilot.press("p")
        await settle(pilot)
        assert pane.prepared is not None
        assert app.active_dataset["prepared"] is True and app.active_dataset["num_labels"] == 2
        body = str(pane.query_one("#datasets-prepare-body").content)
        assert "input_ids  shape=[4, " in body and "labels  shape=[4]" in body
        await pilot.press("c")
        await pilot.pause()
        assert type(app.screen).__name__ == "CodeDialog"
        assert "DataCollatorWithPadding" in app.screen.code


async def test_open_dialog_edits_splits_and_bad_files_open_nothing(fixtures, tmp_path):
    (tmp_path / "rows.tsv").write_text("a\tb\n1\t2\n3\n")
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_in_pane(pilot, tmp_path / "rows.tsv")
        assert pane.opened is None and app.active_dataset is None
        assert "rows.tsv line 3: 1 fields, but the header has 2 columns" in status(pane)

        await pilot.press("o")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one("#datasets-open-path").value = str(fixtures / "reviews")
        await pilot.pause()
        # Files are listed in name order: test.csv, train.csv, validation.csv.
        assert [dialog.query_one(f"#datasets-split-{i}").value for i in range(3)] == ["test", "train", "validation"]
        dialog.query_one("#datasets-split-0").value = ""  # skip test.csv
        dialog.query_one("#datasets-split-2").value = "dev"
        dialog.query_one("#datasets-split-2").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert list(pane.opened.splits) == ["train", "dev"]


async def test_parquet_is_browsed_in_place_then_prepared_and_a_rewrite_closes_the_view(tmp_path, monkeypatch):
    """Far rows load in a worker (tiny chunks make every far page slow), statistics read in place,
    preparing converts once, and rewriting the file closes the view."""
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    from workbench.core.data import rows as rows_module

    path = tmp_path / "reviews.parquet"
    texts = [f"review {i}: {'great fun' if i % 2 else 'too slow'}" for i in range(900)]
    table = pa.table({"text": texts, "label": ["pos" if i % 2 else "neg" for i in range(900)]})
    pq.write_table(table, path, row_group_size=200)
    monkeypatch.setattr(rows_module, "CHUNK_ROWS", 16)
    monkeypatch.setattr(rows_module, "CHEAP_CHUNKS", 1)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_in_pane(pilot, path)
        assert pane.opened.in_place and not pane.opened.splits.built
        table_view = pane.query_one(DatasetTable)
        assert table_view.total == 900
        assert not table_view.pager.ready(880, 20), "a far page is left to a worker"
        await pilot.press("end")
        assert "train · row 899 of 900" in status(pane)
        await settle(pilot)
        assert table_view.pager.ready(880, 20)
        cursor_line = table_view.cursor_row - int(table_view.scroll_offset.y) + 1
        assert "899  review 899: great fu" in table_view.render_line(cursor_line).text
        await pilot.press("slash", *"TOO SLOW", "enter")
        await settle(pilot)
        assert pane.query_matches.tolist() == list(range(0, 900, 2))
        await pilot.press("escape")

        await pilot.press("s")
        await settle(pilot)
        assert pane.query_one("#datasets-stats-view").result.labels == [("neg", 450), ("pos", 450)]
        assert not pane.opened.splits.built, "statistics read the Parquet file in place"

        await pilot.press("p", "p")  # the view, then the preparation: converts once, in a worker
        await settle(pilot)
        assert pane.prepared is not None and pane.opened.splits.built
        assert app.active_dataset["num_labels"] == 2

        pq.write_table(table.slice(0, 10), path)
        os.utime(path, ns=(1, 1))
        pane._check_changed_files()
        await pilot.pause()
        assert table_view.pager is None
        assert "reviews.parquet changed on disk: r reloads" in status(pane)


async def test_guessed_pair_is_shown_sent_and_changed_in_one_place(tmp_path, monkeypatch):
    """RTE-like file: the short hypothesis is the guessed pair; the side panel says so; "send to
    tokenizer" sends the pair; picking other columns in Prepare updates the side panel, the
    statistics and the app's selection (no longer marked guessed)."""
    from tests.data.test_columns import write_rte

    received = []
    monkeypatch.setattr(
        TokenizerPane, "show_text", lambda self, text, pair=None: received.append((text, pair)), raising=False
    )
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_in_pane(pilot, write_rte(tmp_path / "rte.tsv"))
        side = str(pane.query_one("#datasets-features").content)
        assert "  text: sentence1 (guessed)" in side and "  pair: sentence2 (guessed)" in side
        assert "Prepare (p) changes them." in side
        assert app.active_dataset.text_pair_column == "sentence2" and app.active_dataset.task == "classification"
        await pilot.press("t")
        await pilot.pause()
        assert received[-1][1] == "The cabinet met."

        await pilot.press("alt+3", "s")  # show_text is stubbed here: the editor may have the focus
        await settle(pilot)
        assert pane.query_one("#datasets-stats-view").result.pair_column == "sentence2"

        await pilot.press("p")
        pane.query_one("#datasets-prepare-pair").clear()
        pane.query_one("#datasets-prepare-label").value = "index"
        await settle(pilot)
        await pilot.pause()
        selection = app.active_dataset
        assert selection.text_pair_column is None and selection.label_column == "index"
        assert selection.guessed == ("text",) and selection.task == "classification"
        assert selection.label_names == tuple(str(i) for i in range(6))
        side = str(pane.query_one("#datasets-features").content)
        assert "  pair: -\n" in side and " label: index\n" in side
        await pilot.press("s")
        await settle(pilot)
        assert pane.query_one("#datasets-stats-view").result.pair_column is None


async def test_a_file_without_a_header_row_is_offered_without_one(tmp_path):
    """CoLA-like TSV: opening it says the first line looks like data and offers the Open dialog
    with "first line is a header" unticked; Enter opens it with the names typed there."""
    from tests.data.test_no_header import COLA

    path = tmp_path / "in_domain_train.tsv"
    path.write_text(COLA)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_in_pane(pilot, path)
        assert pane.opened is None and "line 1 looks like data, not a header" in status(pane)
        dialog = app.screen
        assert type(dialog).__name__ == "DatasetsOpenDialog"
        assert dialog.query_one("#datasets-open-header").value is False
        assert dialog.query_one("#datasets-open-path").value == str(path)
        dialog.query_one("#datasets-open-names").value = "source, label, mark, sentence"
        await pilot.press("enter")
        await settle(pilot)
        assert pane.opened is not None and not pane.opened.header
        assert pane.query_one(DatasetTable).columns == ["source", "label", "mark", "sentence"]
        selection = app.active_dataset
        assert selection.header is False and (selection.text_column, selection.label_column) == ("sentence", "label")
        assert selection.task == "classification" and selection.label_names == ("0", "1")
        assert "in_domain_train.tsv line 1" not in status(pane) and "train · row 0 of 5" in status(pane)


async def test_a_regression_target_shows_a_histogram_of_value_ranges(tmp_path):
    """STS-B-like float scores: the Statistics view bins them (not a bar per value) with short numbers."""
    from tests.data.test_columns import write_stsb

    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_in_pane(pilot, write_stsb(tmp_path / "stsb.tsv"))
        assert app.active_dataset.task == "regression"
        await pilot.press("s")
        await settle(pilot)
        result = pane.query_one("#datasets-stats-view").result
        assert result.labels == [("0–0.5", 1), ("0.5–1", 1), ("1–1.5", 0), ("1.5–2", 1), ("2–2.5", 1), ("2.5–3", 0)] + [
            ("3–3.5", 1),
            ("3.5–4", 1),
        ]
        body = str(pane.query_one("#datasets-stats-body").content)
        assert "Labels · score (a regression target: value ranges)" in body
        assert "Length in characters · sentence1 + sentence2" in body
