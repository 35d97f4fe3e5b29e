"""Report building without a training run: a crash nobody recorded, a pane's error, the script's variants."""

from __future__ import annotations

import ast
import os

import pytest

from tests.report.conftest import FAKE_TOKEN
from workbench.core.report import build_error_report, build_run_report
from workbench.core.report.build import fence
from workbench.core.report.script import EMBEDDED_PUBLIC_ID, reproduction_script
from workbench.core.runs import protocol
from workbench.training.spec import default_spec, dump_spec


@pytest.fixture
def crashed_run(tmp_path):
    """A run folder whose child started, stepped, then died with no final event (an OOM kill)."""
    run_dir = tmp_path / "20260101-120000-bert-abcd"
    run_dir.mkdir()
    spec = default_spec(model="bert-base-uncased", data=str(tmp_path / "train.csv"))
    (run_dir / "spec.toml").write_text(dump_spec(spec), encoding="utf-8")
    with protocol.EventWriter(run_dir / "events.jsonl") as writer:
        writer.emit(protocol.RunStarted(run_id=run_dir.name, spec=spec, versions={"torch": "2.9.0", "cuda": "12.8"}))
        writer.emit(protocol.Step(step=7, epoch=0.1, loss=0.69, learning_rate=5e-5))
    (run_dir / "stdout.log").write_text("step 7\nKilled\n", encoding="utf-8")
    return run_dir


def test_a_crash_nobody_recorded_is_reported_from_the_log(crashed_run, fixed_environment):
    markdown = build_run_report(
        crashed_run,
        status="crashed",
        error="The training process died without a final event.",
        environment=fixed_environment,
    )
    assert markdown.startswith("# workbench run crashed: The training process died")
    assert "crashed at step 7" in markdown
    error = markdown.split("## Error", 1)[1].split("## Run spec", 1)[0]
    assert "Killed" in error  # the end of the log stands in for the traceback
    assert "- Versions the run recorded when it started: torch 2.9.0, cuda 12.8" in markdown
    assert "model_id = 'bert-base-uncased'" in markdown


def test_colour_codes_of_the_log_stay_out_of_the_report(crashed_run, fixed_environment):
    """transformers prints its load report in bold; the report quoted the escape codes as they were."""
    (crashed_run / "stdout.log").write_text(
        "\x1b[1mBertForSequenceClassification LOAD REPORT\x1b[0m from: m\n\x1b[31mKilled\x1b[0m\n", encoding="utf-8"
    )
    markdown = build_run_report(crashed_run, status="crashed", error=None, environment=fixed_environment)
    assert "\x1b" not in markdown
    assert "BertForSequenceClassification LOAD REPORT from: m" in markdown and "\nKilled" in markdown


def test_a_recorded_failure_wins_over_the_callers_status(crashed_run, fixed_environment):
    with protocol.EventWriter(crashed_run / "events.jsonl") as writer:
        writer.emit(
            protocol.Failed(
                error="RuntimeError: CUDA out of memory", traceback="Traceback ...", suggestion="Halve the batch"
            )
        )
    markdown = build_run_report(crashed_run, status="failed", error="ignored", environment=fixed_environment)
    assert "failed at step 7" in markdown and "RuntimeError: CUDA out of memory\n\nTraceback ..." in markdown
    assert "Workbench's suggestion: Halve the batch" in markdown


def test_error_report_for_a_pane(monkeypatch, fixed_environment):
    monkeypatch.setenv("HOME", "/home/alice")
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "/home/alice/wb/loader.py", line 3, in load\n'
        "OSError: /home/alice/models/tok does not appear to have a file named tokenizer.json"
    )
    code = 'from transformers import AutoTokenizer\n\ntok = AutoTokenizer.from_pretrained("/home/alice/models/tok")\n'
    options = {"source": "/home/alice/models/tok", "use_fast": True, "revision": None, "token": FAKE_TOKEN}
    markdown = build_error_report("Loading a tokenizer", traceback, options, code, environment=fixed_environment)
    assert markdown.startswith("# workbench: Loading a tokenizer\n")
    summary = "**Summary:** Loading a tokenizer failed: OSError: ~/models/tok does not appear to have a file named"
    assert summary in markdown
    assert "- GPUs (driver 570.86.15, CUDA 12.8):" in markdown
    assert 'source = "~/models/tok"' in markdown and "use_fast = true" in markdown  # options as TOML
    assert "revision" not in markdown  # None is left out
    assert 'from_pretrained("~/models/tok")' in markdown
    assert "/home/alice" not in markdown and FAKE_TOKEN not in markdown
    unredacted = build_error_report(
        "Loading a tokenizer", traceback, options, code, redact=False, environment=fixed_environment
    )
    assert "/home/alice/models/tok" in unredacted and FAKE_TOKEN not in unredacted


def test_fence_outlasts_backticks_inside():
    assert fence("a ```python block``` inside", "text") == "````text\na ```python block``` inside\n````"


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"data": {"train_file": "/d/train.tsv"}}, ["import csv", 'sep="\\t", quoting=csv.QUOTE_NONE']),
        (
            {"data": {"dataset": "nyu-mll/glue", "dataset_config": "mrpc", "train_file": ""}},
            ["load_dataset('nyu-mll/glue', 'mrpc')"],
        ),
        ({"model": {"name_or_path": "embedded"}}, [f"model_id = {EMBEDDED_PUBLIC_ID!r}"]),
        ({"model": {"id2label": {"0": "neg", "1": "pos"}}}, ["label_names = ['neg', 'pos']  # the spec's id2label"]),
        (
            {
                "training": {
                    "mixed_precision": "bf16",
                    "warmup_ratio": 0.1,
                    "group_by_length": True,
                    "eval_strategy": "steps",
                    "eval_steps": 50,
                }
            },
            [
                "bf16=True",
                "warmup_steps=0.1",
                "train_sampling_strategy='group_by_length'",
                "eval_strategy='steps'",
                "eval_steps=50",
            ],
        ),
        (
            {"data": {"text_pair_column": "sentence2", "max_train_samples": 100}},
            ["'sentence2'", "select(range(min(100,"],
        ),
    ],
)
def test_script_variants_are_valid_python(changes, expected):
    spec = default_spec(model="/m/bert", data="/d/train.csv")
    spec["data"]["validation_file"] = "/d/dev.csv"
    for section, values in changes.items():
        spec[section].update(values)
    script = reproduction_script(spec, title='A "quoted" title')
    ast.parse(script)
    for text in expected:
        assert text in script


def test_report_refuses_a_run_that_is_still_running(crashed_run, capsys):
    from workbench.cli import main
    from workbench.core.runs.folder import acquire_lock

    lock = acquire_lock(crashed_run)  # what a live run's launcher holds for its whole life
    try:
        assert main(["report", str(crashed_run)]) == 2
    finally:
        os.close(lock)
    err = capsys.readouterr().err
    assert err.startswith(f"workbench: Run {crashed_run.name} is still running; a report is for a run that has ended.")
    assert not (crashed_run / "report.md").exists()


def test_report_of_a_finished_run_says_so(crashed_run, capsys):
    from workbench.cli import main

    with protocol.EventWriter(crashed_run / "events.jsonl") as writer:
        writer.emit(protocol.Finished(status="finished", summary={"steps": 7}))
    assert main(["report", str(crashed_run), "--output", str(crashed_run / "copy.md")]) == 0
    captured = capsys.readouterr()
    assert "finished without an error; reporting it anyway" in captured.err
    assert captured.out == ""  # --output: the report goes to the file, not the terminal
    markdown = (crashed_run / "copy.md").read_text(encoding="utf-8")
    assert markdown == (crashed_run / "report.md").read_text(encoding="utf-8")
    assert "(no failure recorded: the run is finished)" in markdown
