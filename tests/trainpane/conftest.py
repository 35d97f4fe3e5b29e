"""Recorded run folders copied into the test's own runs dir, and helpers to wait for the monitor."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from tests.trainpane.fixtures.make_fixtures import CRASHED, FINISHED, GPU, RUNNING

FIXTURE_RUNS = Path(__file__).parent / "fixtures" / "runs"
ALL_RUNS = (RUNNING, FINISHED, CRASHED, GPU)


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    """A runs dir holding the four recorded runs; the app reads it through WORKBENCH_RUNS_DIR."""
    folder = tmp_path / "runs"
    for run_id in ALL_RUNS:
        shutil.copytree(FIXTURE_RUNS / run_id, folder / run_id)
    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(folder))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    return folder


async def wait_for(pilot, condition, timeout: float = 10.0) -> None:
    """Pause the pilot until `condition()` holds (workers post their results asynchronously)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)
    await pilot.pause()


async def monitor_loaded(pilot) -> None:
    from workbench.ui.training.monitor import RunMonitor

    monitor = pilot.app.screen.query_one(RunMonitor)
    await wait_for(pilot, lambda: monitor.history.events_seen > 0)
    await asyncio.sleep(0.05)
    await pilot.pause()
