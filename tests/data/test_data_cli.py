"""`workbench data info` and `workbench data head`."""

from __future__ import annotations

import json

from workbench.cli import main


def test_info_json_on_mrpc(mrpc_dir, capsys):
    assert main(["data", "info", str(mrpc_dir), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["splits"]["validation"]["rows"] == 408
    assert info["splits"]["train"]["files"] == ["train.tsv"]
    assert info["features"]["#1 String"] == "string"
    assert (info["text_column"], info["text_pair_column"], info["label_column"]) == (
        "#1 String",
        "#2 String",
        "Quality",
    )
    assert (info["task"], info["label_names"]) == ("classification", ["0", "1"])


def test_info_text_names_the_label_classes(fixtures, capsys):
    assert main(["data", "info", str(fixtures / "reviews")]) == 0
    out = capsys.readouterr().out
    assert "train                  12 rows" in out
    assert "task:         classification (neg, pos)" in out


def test_head_table_and_json(fixtures, capsys):
    assert main(["data", "head", str(fixtures / "reviews"), "--split", "validation", "-n", "2"]) == 0
    out = capsys.readouterr().out
    assert "Charming, light and clever." in out and "(2 of 4 rows of validation)" in out
    assert main(["data", "head", str(fixtures / "quotes.tsv"), "-n", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"id": 1, "sentence": 'He said " hello to me', "score": 0.5}


def test_errors_exit_2_without_a_traceback(tmp_path, fixtures, capsys):
    assert main(["data", "info", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv: no such file" in capsys.readouterr().err
    assert main(["data", "head", str(fixtures / "reviews"), "--split", "nope"]) == 2
    assert "No split 'nope'; the splits are train, validation, test" in capsys.readouterr().err
