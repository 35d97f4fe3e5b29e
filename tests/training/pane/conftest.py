"""Recorded run folders copied into the test's own runs dir, and helpers to wait for the monitor."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.training.pane.fixtures.make_fixtures import CRASHED, FINISHED, GPU, RUNNING

FIXTURE_RUNS = Path(__file__).parent / "fixtures" / "runs"
ALL_RUNS = (RUNNING, FINISHED, CRASHED, GPU)


def stand_in_child(run_dir: Path) -> subprocess.Popen:
    """A live process whose command line names the run folder, as a real child's does: to the engine
    and the monitor the recorded run is then still running."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", str(run_dir)])
    (run_dir / "pid").write_text(str(process.pid))
    return process


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """A runs dir holding the four recorded runs (the running and GPU ones with a live stand-in child);
    the app reads it through WORKBENCH_RUNS_DIR."""
    folder = tmp_path / "runs"
    for run_id in ALL_RUNS:
        shutil.copytree(FIXTURE_RUNS / run_id, folder / run_id)
    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(folder))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    children = [stand_in_child(folder / run_id) for run_id in (RUNNING, GPU)]
    yield folder
    for child in children:
        child.kill()
        child.wait()


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
