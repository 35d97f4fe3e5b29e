"""The training child run directly (one CPU process, no launcher): regression, the final event."""

from __future__ import annotations

import json

import pytest

from tests.training.conftest import sentiment_rows
from tests.training.helpers import run_child
from workbench.core.runs import protocol

pytestmark = pytest.mark.slow


def events_of(run_dir) -> list[protocol.Event]:
    return protocol.read_events(run_dir / "events.jsonl")


@pytest.fixture(scope="module")
def similarity_data(tmp_path_factory):
    """STS-B-like float scores between 0 and 5: positive texts score high."""
    folder = tmp_path_factory.mktemp("similarity")
    rows = sentiment_rows(120, 3)
    lines = [f"{text}\t{(4.0 if label == 'pos' else 1.0) + (i % 5) / 10:.2f}\n" for i, (text, label) in enumerate(rows)]
    (folder / "train.tsv").write_text("sentence\tscore\n" + "".join(lines[:96]), encoding="utf-8")
    (folder / "dev.tsv").write_text("sentence\tscore\n" + "".join(lines[96:]), encoding="utf-8")
    return folder


def test_float_labels_train_a_regression_head_with_correlation_metrics(tiny_spec, similarity_data, tmp_path):
    tiny_spec["data"].update(
        train_file=str(similarity_data / "train.tsv"),
        validation_file=str(similarity_data / "dev.tsv"),
        text_column="sentence",
        label_column="score",
    )
    # 96 rows, batch 16: an epoch is 6 steps, so every epoch end is also an eval step.
    tiny_spec["training"].update(
        max_steps=24, save_steps=0, metrics=["pearsonr", "spearmanr"], eval_strategy="steps", eval_steps=6
    )
    tiny_spec["monitor"]["system_sample_interval_s"] = 0
    run_dir = tmp_path / "regression"
    result = run_child(tiny_spec, run_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    events = events_of(run_dir)
    assert "Loading the model: 1 label(s) (regression)" in [
        e.message for e in events if isinstance(e, protocol.LogLine)
    ]
    evaluations = [e for e in events if isinstance(e, protocol.Evaluation)]
    assert [e.step for e in evaluations] == [6, 12, 18, 24]  # one evaluation per step, epoch ends included
    assert set(evaluations[-1].metrics) == {"eval_loss", "pearsonr", "spearmanr"}
    assert all(-1 <= evaluations[-1].metrics[name] <= 1 for name in ("pearsonr", "spearmanr"))
    assert isinstance(events[-1], protocol.Finished) and events[-1].status == "finished"
    config = json.loads((run_dir / "final" / "config.json").read_text())
    assert config["problem_type"] == "regression" and len(config["id2label"]) == 1
    # No tqdm frames in the run's output ("Writing model shards: 100%|...| 1/1 [00:00<00:00, 7.25it/s]").
    assert "it/s]" not in result.stdout + result.stderr


DISK_FULL_CHILD = """
import errno, sys
from workbench.training import checkpoints

def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")

checkpoints.commit = no_space  # the checkpoint's files are written, its state file is not
from workbench.training.child import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_a_full_disk_mid_run_says_so_and_cleans_what_the_run_owns(tiny_spec, tmp_path):
    import subprocess
    import sys

    from workbench.training.spec import dump_spec

    tiny_spec["training"].update(max_steps=8, save_steps=4, metrics=[], eval_strategy="no")
    tiny_spec["monitor"]["system_sample_interval_s"] = 0
    run_dir = tmp_path / "full"
    leftover = run_dir / "checkpoints" / ".deleting-checkpoint-2"  # a rotation killed half-way
    leftover.mkdir(parents=True)
    (leftover / "optimizer.bin").write_bytes(b"x" * 1000)
    (run_dir / "spec.toml").write_text(dump_spec(tiny_spec), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", DISK_FULL_CHILD, "--run-dir", str(run_dir)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1, result.stderr[-3000:]
    events = events_of(run_dir)
    assert "Removed checkpoints/.deleting-checkpoint-2, left by an interrupted run" in [
        e.message for e in events if isinstance(e, protocol.LogLine)
    ]
    final = events[-1]
    assert isinstance(final, protocol.Failed) and final.status == "failed"
    assert final.error.startswith("No space left on device: ") and f"free on the disk of {run_dir}" in final.error
    assert "save_total_limit" in final.suggestion
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "failed"
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == []  # the half-written checkpoint is gone
