"""Files without a header row (CoLA's TSV: source, label, mark, sentence): detected, and opened
with header=False / --no-header, columns column_1 … column_N."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.core.data.loading import open_dataset
from workbench.core.data.scan import MissingHeaderError

COLA = (
    "gj04\t1\t\tOur friends won't buy this analysis, let alone the next one we propose.\n"
    "gj04\t1\t\tOne more pseudo generalization and I'm giving up.\n"
    "gj04\t0\t*\tThey drank the pub.\n"
    "gj04\t1\t\tThe more we study verbs, the crazier they get.\n"
    "cj99\t0\t*\tThe more does Bill smoke, the more Susan hates him.\n"
)


@pytest.fixture
def cola(tmp_path):
    path = tmp_path / "in_domain_train.tsv"
    path.write_text(COLA)
    return path


def test_a_missing_header_is_detected_and_the_message_says_what_to_do(cola):
    with pytest.raises(MissingHeaderError) as raised:
        open_dataset(cola)
    text = str(raised.value)
    assert (
        "in_domain_train.tsv line 1 looks like data, not a header: field 2 is '1', a number like the rows below" in text
    )
    assert "--no-header" in text and "column_1 … column_4" in text


def test_header_false_reads_every_line_as_a_row(cola):
    opened = open_dataset(cola, header=False)
    data = opened.splits["train"]
    assert data.column_names == ["column_1", "column_2", "column_3", "column_4"]
    assert data.num_rows == 5 and data["column_2"] == [1, 1, 0, 1, 0]
    assert data["column_4"][0].startswith("Our friends") and data["column_3"][2] == "*"
    assert not opened.header


def test_a_real_header_is_not_mistaken_for_data(tmp_path):
    (tmp_path / "ok.tsv").write_text("label\tsentence\n1\tGood.\n0\tBad.\n")
    assert open_dataset(tmp_path / "ok.tsv").splits["train"].column_names == ["label", "sentence"]


def test_cli_no_header(cola, capsys):
    assert main(["data", "info", str(cola)]) == 2
    assert "--no-header" in capsys.readouterr().err
    assert main(["data", "info", str(cola), "--no-header", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["header"] is False and info["splits"]["train"]["rows"] == 5
    assert info["text_column"] == "column_4" and info["label_column"] is None
    assert main(["data", "head", str(cola), "--no-header", "-n", "2"]) == 0
    assert "column_1" in capsys.readouterr().out
    assert main(["data", "info", str(cola), "--no-header", "--names", "source,label,mark,sentence", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["text_column"], info["label_column"], info["task"]) == ("sentence", "label", "classification")
    assert main(["data", "info", str(cola), "--no-header", "--names", "a,b"]) == 2
    assert "2 column names given, but the rows have 4 fields" in capsys.readouterr().err
    assert main(["data", "info", str(cola), "--names", "a,b,c,d"]) == 2
    assert "add --no-header" in capsys.readouterr().err


def test_the_shown_code_reads_the_file_the_same_way(cola):
    from workbench.core.data.codegen import preparation_code

    code = preparation_code(open_dataset(cola, header=False), None, None, "model")
    assert "header=None, column_names=['column_1', 'column_2', 'column_3', 'column_4']" in code
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - the code the user is shown must run as shown
    assert namespace["data"]["train"].num_rows == 5
