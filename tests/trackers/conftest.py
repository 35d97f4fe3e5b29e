"""A recorded run (the Training pane's fixture, copied so nothing writes into the fixtures)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURE_RUNS = Path(__file__).resolve().parents[1] / "training" / "pane" / "fixtures" / "runs"
FINISHED_RUN = "20251231-090000-minilm-f00d"  # steps, evaluations, system samples, finished


@pytest.fixture
def recorded_run(tmp_path) -> Path:
    run = tmp_path / "runs" / FINISHED_RUN
    shutil.copytree(FIXTURE_RUNS / FINISHED_RUN, run)
    return run


@pytest.fixture
def events(recorded_run):
    from workbench.core.runs.protocol import read_events

    return read_events(recorded_run / "events.jsonl")
