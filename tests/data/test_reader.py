"""One CSV/TSV reader (core.data.scan.csv_options) for the browser and the training child."""

from __future__ import annotations

from workbench.core.data.loading import open_dataset

ROWS = '\ufeffsentence\tlabel\nNone of them came.\t1\nNA\t0\nHe said "hi.\t1\n\t0\n'


def test_bom_quotes_and_missing_values_read_one_way_in_the_pane_and_the_training_child(tmp_path):
    from workbench.training import data as run_data

    path = tmp_path / "cola.tsv"
    path.write_text(ROWS, encoding="utf-8")
    pane = open_dataset(path).splits["train"]
    child = run_data.load_raw({"train_file": str(path)})["train"]
    for dataset in (pane, child):
        assert dataset.column_names == ["sentence", "label"], "the BOM is not part of a name"
        # "NA" is text as in the file; only the empty cell is missing; a lone quote is text (TSV: no quoting).
        assert dataset["sentence"] == ["None of them came.", "NA", 'He said "hi.', None]
        assert dataset["label"] == [1, 0, 1, 0]
