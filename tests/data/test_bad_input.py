"""Every bad input gets a message naming the file, line or column, and nothing half-loaded."""

from __future__ import annotations

import json

import pytest

from workbench.core.data import loading, scan
from workbench.core.data.labels import infer_labels
from workbench.core.data.loading import open_dataset
from workbench.core.data.paging import CELL_PREVIEW_CHARS, RowPager
from workbench.core.data.search import iter_filter
from workbench.core.errors import WorkbenchError


def test_missing_file(tmp_path):
    with pytest.raises(WorkbenchError, match="nothere.csv: no such file"):
        open_dataset(tmp_path / "nothere.csv")


def test_missing_file_among_splits(tmp_path):
    (tmp_path / "train.csv").write_text("text\nhello\n")
    with pytest.raises(WorkbenchError, match="gone.csv: no such file"):
        open_dataset(tmp_path, {"train": [tmp_path / "train.csv"], "test": [tmp_path / "gone.csv"]})


def test_a_named_pipe_is_refused_as_not_a_file_not_read_as_empty(tmp_path, capsys):
    import os

    from workbench.cli import main

    pipe = tmp_path / "rows.csv"
    os.mkfifo(pipe)  # nothing writes to it: opening it to read would wait forever
    with pytest.raises(WorkbenchError, match="not a regular file") as refused:
        open_dataset(pipe)
    assert "Save the data to a file" in refused.value.hint
    assert main(["data", "info", str(pipe)]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_empty_file_and_header_only(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(WorkbenchError, match=r"empty.csv: the file is empty"):
        open_dataset(tmp_path / "empty.csv")
    (tmp_path / "header.tsv").write_text("text\tlabel\n")
    with pytest.raises(WorkbenchError, match=r"header.tsv: a header \(2 columns\) but no rows"):
        open_dataset(tmp_path / "header.tsv")


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.json", "[]", "empty.json: an empty JSON array, so there are no rows."),
        ("blank.json", "[{}, {}]", r"blank.json: every object is empty \(\{\}\), so there are no columns."),
        ("blank.jsonl", "{}\n{}\n", r"blank.jsonl: every object is empty \(\{\}\), so there are no columns."),
    ],
)
def test_json_without_rows_or_columns(tmp_path, name, content, message):
    # `datasets` said only 'Instruction "train" corresponds to no data!'.
    (tmp_path / name).write_text(content)
    with pytest.raises(WorkbenchError, match=f"^{message}$"):
        open_dataset(tmp_path / name)


def test_binary_file(tmp_path):
    (tmp_path / "data.csv").write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)))
    with pytest.raises(WorkbenchError, match=r"data.csv: looks binary \(a NUL byte at offset 3\)"):
        open_dataset(tmp_path / "data.csv")
    (tmp_path / "fake.parquet").write_text("a,b\n1,2\n")
    with pytest.raises(WorkbenchError, match="fake.parquet: not a Parquet file"):
        open_dataset(tmp_path / "fake.parquet")


def test_malformed_rows_name_the_line(tmp_path):
    (tmp_path / "rows.tsv").write_text("text\tlabel\nfine\t1\nbroken line\nalso\t0\n")
    with pytest.raises(WorkbenchError, match=r"rows.tsv line 3: 1 fields, but the header has 2 columns"):
        open_dataset(tmp_path / "rows.tsv")
    # An unbalanced quote in a CSV swallows the following lines into one field.
    (tmp_path / "quotes.csv").write_text('text,label\nok,1\n"never closed,0\nnext,1\nlast,0\n')
    with pytest.raises(WorkbenchError, match=r"quotes.csv line 3: malformed CSV"):
        open_dataset(tmp_path / "quotes.csv")
    (tmp_path / "rows.jsonl").write_text('{"text": "a"}\n{"text": "b",}\n')
    with pytest.raises(WorkbenchError, match=r"rows.jsonl line 2 column \d+: malformed JSON"):
        open_dataset(tmp_path / "rows.jsonl")


def test_label_column_with_mixed_types(tmp_path):
    lines = [json.dumps({"text": f"t{i}", "label": i % 2}) for i in range(5)] + [
        json.dumps({"text": "x", "label": "pos"})
    ]
    (tmp_path / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    opened = open_dataset(tmp_path / "mixed.jsonl")
    assert opened.warnings == [
        "mixed.jsonl line 6, field 'label': a text ('pos'), but line 1 has an integer. A column must hold one type."
    ]
    with pytest.raises(
        WorkbenchError, match=r"Label column 'label' mixes types: row 5 holds \"pos\" \(text\) while row 0 holds 0"
    ):
        infer_labels(opened.splits["train"], "label")
    # In a CSV the column is read as text; choosing it as the label names the odd row.
    (tmp_path / "mixed.csv").write_text("text,label\na,1\nb,0\nc,positive\nd,1\n")
    train = open_dataset(tmp_path / "mixed.csv").splits["train"]
    with pytest.raises(WorkbenchError, match=r"Label column 'label' mixes numbers and text: row 2 holds 'positive'"):
        infer_labels(train, "label")


def test_csv_whose_column_changes_type_after_many_rows(tmp_path):
    rows = "".join(f"text {i},{i % 2}\n" for i in range(25_000))
    (tmp_path / "late.csv").write_text("text,label\n" + rows + "odd one,positive\n")
    with pytest.raises(WorkbenchError, match=r"late.csv line 25002, column 'label': 'positive' is text"):
        open_dataset(tmp_path / "late.csv")


def test_missing_column(fixtures):
    train = open_dataset(fixtures / "reviews").splits["train"]
    with pytest.raises(WorkbenchError, match=r"No column 'sentiment': the columns are 'text', 'label'"):
        infer_labels(train, "sentiment")
    with pytest.raises(WorkbenchError, match="No column 'score'"):
        list(iter_filter(train, "score", ">", "1"))


def test_empty_labels_name_the_row(tmp_path):
    (tmp_path / "holes.jsonl").write_text('{"text": "a", "label": 1}\n{"text": "b"}\n')
    train = open_dataset(tmp_path / "holes.jsonl").splits["train"]
    with pytest.raises(WorkbenchError, match=r"Label column 'label': row 1 is empty"):
        infer_labels(train, "label")


def test_a_cell_of_several_megabytes_loads_whole_and_is_shown_cut(tmp_path):
    big = "word " * 600_000  # 3 MB
    (tmp_path / "big.csv").write_text(f"text,label\nsmall,0\n{big},1\nsmall again,0\n")
    opened = open_dataset(tmp_path / "big.csv")
    assert opened.num_rows("train") == 3
    assert any("big.csv line 3, column 'text': a cell of 2.9 MB" in warning for warning in opened.warnings)
    pager = RowPager(opened.splits["train"])
    assert len(pager.rows(0, 3)[1]["text"]) == CELL_PREVIEW_CHARS
    assert pager.row(1)["text"] == big  # nothing lost


def test_a_file_that_changes_while_open(tmp_path):
    path = tmp_path / "live.csv"
    path.write_text("text,label\na,0\nb,1\n")
    opened = open_dataset(path)
    assert opened.changed_files() == []
    path.write_text("text,label\na,0\nb,1\nc,0\n")
    assert opened.changed_files() == [path]
    assert opened.splits["train"].num_rows == 2  # the opened version stays consistent


def test_a_file_that_changes_while_loading(tmp_path, monkeypatch):
    path = tmp_path / "growing.csv"
    path.write_text("text,label\na,0\nb,1\n")
    real_scan = scan.scan_csv

    def scan_then_append(file, fmt, header=True):
        result = real_scan(file, fmt, header)
        with file.open("a") as handle:
            handle.write("c,0\n")
        return result

    monkeypatch.setattr(loading.scan, "scan_csv", scan_then_append)
    with pytest.raises(WorkbenchError, match="growing.csv changed while it was being loaded; nothing was opened"):
        open_dataset(path)


def test_not_utf8(tmp_path):
    (tmp_path / "latin.csv").write_bytes("text,label\ncaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(WorkbenchError, match=r"latin.csv line 2: not valid UTF-8"):
        open_dataset(tmp_path / "latin.csv")
