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
    tiny_spec["training"].update(max_steps=12, save_steps=0, metrics=["pearsonr", "spearmanr"])
    tiny_spec["monitor"]["system_sample_interval_s"] = 0
    run_dir = tmp_path / "regression"
    result = run_child(tiny_spec, run_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    events = events_of(run_dir)
    assert "Loading the model: 1 label(s) (regression)" in [
        e.message for e in events if isinstance(e, protocol.LogLine)
    ]
    evaluations = [e for e in events if isinstance(e, protocol.Evaluation)]
    assert evaluations and set(evaluations[-1].metrics) == {"eval_loss", "pearsonr", "spearmanr"}
    assert all(-1 <= evaluations[-1].metrics[name] <= 1 for name in ("pearsonr", "spearmanr"))
    assert isinstance(events[-1], protocol.Finished) and events[-1].status == "finished"
    config = json.loads((run_dir / "final" / "config.json").read_text())
    assert config["problem_type"] == "regression" and len(config["id2label"]) == 1
