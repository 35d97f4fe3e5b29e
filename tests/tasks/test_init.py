"""`workbench train --init --data`: a spec that runs as it is, its columns and labels read from the data."""

from __future__ import annotations

import tomllib

from workbench.cli import main


def test_init_on_mrpc_finds_the_pair_the_label_and_the_dev_file(mrpc_dir, tmp_path, capsys):
    target = tmp_path / "spec.toml"
    assert main(["train", "--init", str(target), "--data", str(mrpc_dir / "train.tsv")]) == 0
    spec = tomllib.loads(target.read_text())
    assert spec["data"]["text_column"] == "#1 String"
    assert spec["data"]["text_pair_column"] == "#2 String"
    assert spec["data"]["label_column"] == "Quality"
    assert spec["data"]["validation_file"].endswith("dev.tsv")
    assert spec["model"]["num_labels"] == 2
    assert "fill in before training" not in capsys.readouterr().out  # nothing left to fix


def test_init_leaves_out_the_keys_of_other_tasks(tmp_path):
    target = tmp_path / "spec.toml"
    assert main(["train", "--init", str(target), "--task", "sequence-classification"]) == 0
    spec = tomllib.loads(target.read_text())
    assert "doc_stride" not in spec["data"] and "source_lang" not in spec["data"]
    assert spec["training"]["metrics"] == ["accuracy", "f1"]


def test_init_refuses_an_unknown_task(tmp_path, capsys):
    assert main(["train", "--init", str(tmp_path / "s.toml"), "--task", "summarise"]) == 2
    assert "Unknown task 'summarise'" in capsys.readouterr().err
