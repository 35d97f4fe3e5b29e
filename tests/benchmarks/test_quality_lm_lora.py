"""Benchmark logic of issue 16's quality runs: the LoRA comparison's documents and loss scale, the
summarization data of `--summaries test3-to-dev`, and the summary lines."""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def quality_lm():
    sys.path.insert(0, str(BENCH))
    return importlib.import_module("quality_lm")


@pytest.fixture(scope="module")
def quality_seq2seq():
    sys.path.insert(0, str(BENCH))
    return importlib.import_module("quality_seq2seq")


def test_paragraphs_are_the_workbench_documents(quality_lm, tmp_path):
    from workbench.core.tasks.language_modeling import read_documents

    text = "First Citizen:\nSpeak.\n\nAll:\nSpeak, speak.\r\n   \n\n\nMENENIUS:\nWhy, masters\n  my good friends\n"
    path = tmp_path / "speeches.txt"
    path.write_text(text, encoding="utf-8")
    ours = quality_lm.paragraphs(text)
    assert ours == read_documents(path, "paragraph")
    assert ours == ["First Citizen:\nSpeak.", "All:\nSpeak, speak.", "MENENIUS:\nWhy, masters\n  my good friends"]


def test_paragraphs_written_and_read_back_by_the_workbench_are_unchanged(quality_lm, tmp_path):
    from workbench.core.tasks.language_modeling import read_documents

    documents = quality_lm.paragraphs("A:\none\ntwo\n\nB:\nthree\n\nC:\nfour\n")
    path = tmp_path / "train.txt"
    path.write_text("\n\n".join(documents) + "\n", encoding="utf-8")
    assert read_documents(path, "paragraph") == documents


def test_adapt_split_holds_out_the_last_share(quality_lm):
    documents = [f"doc {i}" for i in range(20)]
    train, evaluation = quality_lm.adapt_split(documents, 0.1)
    assert train == documents[:18] and evaluation == documents[18:]
    train, evaluation = quality_lm.adapt_split(documents, 0.1, train_rows=5, eval_rows=1)
    assert train == documents[:5] and evaluation == ["doc 18"]
    train, evaluation = quality_lm.adapt_split(documents[:2], 0.9)  # one document is always trained on
    assert train == ["doc 0"] and evaluation == ["doc 1"]
    with pytest.raises(SystemExit):
        quality_lm.adapt_split(["only"], 0.1)


def test_loss_scale_snaps_to_the_known_factors(quality_lm):
    block = 128
    assert quality_lm.loss_scale(3.0, 3.0 * (1 + 1e-5), block) == 1.0
    assert quality_lm.loss_scale(3.0, 3.0 * 127 / 128, block) == pytest.approx(128 / 127)
    odd = quality_lm.loss_scale(3.3, 3.0, block)  # neither: the measured ratio, with a warning
    assert odd == pytest.approx(1.1)


def test_lora_table_uses_peft_names_and_whole_alpha(quality_lm):
    args = quality_lm.build_parser().parse_args(["--task", "clm", "--lora-r", "8"])
    table = quality_lm.lora_table(args)
    assert table == {"r": 8, "lora_alpha": 16, "lora_dropout": 0.05}
    assert isinstance(table["lora_alpha"], int)
    from peft import LoraConfig

    config = LoraConfig(**table)  # peft takes the same keys
    assert (config.r, config.lora_alpha, config.lora_dropout) == (8, 16, 0.05)
    from workbench.core.tasks.lora import validate_lora

    assert validate_lora(table) == []


def test_lora_spec_is_a_valid_workbench_spec(quality_lm, tmp_path):
    from workbench.training.spec import validate_spec

    args = quality_lm.build_parser().parse_args(["--task", "clm", "--lora-r", "8", "--cpu"])
    base = tmp_path / "base"
    base.mkdir()
    files = (tmp_path / "train.txt", tmp_path / "eval.txt")
    for path in files:
        path.write_text("A:\nline\n", encoding="utf-8")
    spec = quality_lm.lora_spec(args, str(base), files, lora=True)
    assert spec["model"]["lora"]["r"] == 8 and spec["model"]["from_config"] is False
    assert spec["data"]["text_file_mode"] == "paragraph" and spec["data"]["train_file"] == str(files[0])
    full = quality_lm.lora_spec(args, str(base), files, lora=False)
    assert not full["model"].get("lora")
    assert validate_spec(spec, check_files=False) == []
    assert validate_spec(full, check_files=False) == []


def test_summarize_reports_the_goals(quality_lm):
    rows = [
        {"side": "workbench-lora", "epoch": 1.0, "eval_loss": 4.0},
        {
            "side": "workbench-lora",
            "epoch": 2.0,
            "eval_loss": 3.03,
            "peak_gpu_memory_mb": 2000.0,
            "trainable_params": 10,
            "total_params": 100,
        },
        {"side": "trainer-lora", "epoch": 2.0, "eval_loss": 3.0, "peak_gpu_memory_mb": 2100.0},
        {"side": "workbench-full", "epoch": 2.0, "eval_loss": 2.9, "peak_gpu_memory_mb": 4000.0},
    ]
    lines = quality_lm.summarize(rows)
    assert any(line.startswith("LoRA final eval loss") and "+1.00%" in line for line in lines)
    assert any("workbench-lora uses 50.0% of workbench-full's peak GPU memory" in line for line in lines)
    assert any(line.startswith("workbench-lora: peak GPU memory 2,000 MiB") and "10 of 100" in line for line in lines)
    two = [{"side": "workbench", "perplexity": math.e * 1.02}, {"side": "trainer", "perplexity": math.e}]
    assert quality_lm.summarize(two) == ["final perplexity: workbench 2.773, trainer 2.718 (+2.00%; goal 2%)"]


def test_summaries_test3_to_dev(quality_seq2seq, tmp_path):
    folder = tmp_path / "dialogsum"
    folder.mkdir()
    test = [{"dialogue": f"d{i}", **{f"summary{k}": f"s{i}.{k}" for k in (1, 2, 3)}} for i in range(4)]
    dev = [{"dialogue": f"v{i}", "summary": f"t{i}"} for i in range(3)]
    (folder / "dialogsum.test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test), encoding="utf-8")
    (folder / "dialogsum.dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in dev), encoding="utf-8")
    parser = quality_seq2seq.build_parser()
    args = parser.parse_args(["--task", "summarization", "--summaries", "test3-to-dev", "--data", str(folder)])
    pairs = quality_seq2seq.read_pairs(args)
    sources, targets = pairs["train"]
    assert len(sources) == 12 and sources[:4] == ["d0", "d1", "d2", "d3"] and sources[4] == "d0"
    assert targets[0] == "s0.1" and targets[4] == "s0.2" and targets[11] == "s3.3"
    assert pairs["validation"] == (["v0", "v1", "v2"], ["t0", "t1", "t2"])
    args = parser.parse_args(["--task", "summarization", "--data", str(folder)])  # the default is unchanged
    assert quality_seq2seq.read_pairs(args)["train"] == (["v0", "v1", "v2"], ["t0", "t1", "t2"])


def test_seq2seq_summary_lines(quality_seq2seq):
    rows = [
        {"side": "workbench", "epoch": 1.0, "eval_loss": 5.0, "rougeL": 10.0},
        {"side": "workbench", "epoch": 2.0, "eval_loss": 4.0, "rougeL": 12.0},
        {"side": "trainer", "epoch": 1.0, "eval_loss": 5.0, "rougeL": 11.0},
        {"side": "trainer", "epoch": 2.0, "eval_loss": 4.2, "rougeL": 11.5},
    ]
    lines = quality_seq2seq.summarize(rows, "summarization")
    assert lines[0] == "final rougeL: workbench 12.00, trainer 11.50 (+0.50 points; goal 1)"
    assert "-4.76%" in lines[1]
    assert lines[2] == "mean rougeL difference over 2 epochs: -0.25 points"


def test_merge_rows_of_sides_run_apart(tmp_path, capsys):
    sys.path.insert(0, str(BENCH))
    task_quality = importlib.import_module("task_quality")
    ours = tmp_path / "clm-workbench.json"
    theirs = tmp_path / "clm-trainer.json"
    ours.write_text(json.dumps([{"side": "workbench", "epoch": 1.0, "perplexity": 102.0}]), encoding="utf-8")
    theirs.write_text(json.dumps([{"side": "trainer", "epoch": 1.0, "perplexity": 100.0}]), encoding="utf-8")
    missing = tmp_path / "clm-other.json"
    rows = task_quality.merge_rows([ours, theirs, missing])
    assert [row["side"] for row in rows] == ["workbench", "trainer"]
    assert "clm-other.json: no rows" in capsys.readouterr().out
    assert task_quality.main(["--task", "clm", "--merge", str(ours), str(theirs)]) == 0
    out = capsys.readouterr().out
    assert "final perplexity: workbench 102.000, trainer 100.000 (+2.00%; goal 2%)" in out
