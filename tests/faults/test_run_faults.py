"""Scripted faults against real training children: a reader hammering the runs folder while a run is
launched, SIGKILL mid-run, then two resumes at once. Exactly one owner, nothing written by readers,
a crash recorded once (by the owner), and the run ends whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from tests.training.helpers import dump_log, wait_for_end, wait_until
from workbench.core.runs import protocol
from workbench.core.runs.listing import list_runs, read_run
from workbench.training import launch
from workbench.training.spec import dump_spec

pytestmark = pytest.mark.slow


def of_type(events, cls):
    return [event for event in events if isinstance(event, cls)]


def events_of(run_dir):
    return protocol.read_events(run_dir / "events.jsonl")


class Hammer(threading.Thread):
    """Lists and reads the runs folder as fast as it can; records every status it saw."""

    def __init__(self, runs_dir):
        super().__init__(daemon=True)
        self.runs_dir = runs_dir
        self.stop = threading.Event()
        self.statuses: list[str] = []
        self.reads = 0

    def run(self) -> None:
        while not self.stop.is_set():
            for info in list_runs(self.runs_dir):
                self.statuses.append(info.status)
                read_run(info.path)
            self.reads += 1


def test_kill_mid_run_then_two_resumes_at_once_leave_one_owner_and_a_whole_run(tiny_spec, tmp_path):
    from workbench.core.runs.folder import runs_dir

    base = runs_dir()
    base.mkdir(parents=True, exist_ok=True)
    tiny_spec["training"].update(metrics=[], eval_strategy="no", max_steps=60, logging_steps=1, save_steps=5)
    tiny_spec["monitor"]["system_sample_interval_s"] = 0
    hammer = Hammer(base)
    hammer.start()
    try:
        info = launch.launch_run(tiny_spec)
        run_dir = info.path

        def checkpointed():
            return of_type(events_of(run_dir), protocol.CheckpointSaved)

        wait_until(checkpointed, timeout=240, interval=0.05)
    finally:
        hammer.stop.set()
        hammer.join()
    assert hammer.reads > 10
    assert "crashed" not in hammer.statuses, "a run being launched never reads as crashed"
    assert not of_type(events_of(run_dir), protocol.Failed), "readers wrote nothing"

    # SIGKILL the training process itself, mid-run: its owner (the supervisor) records the crash, once.
    child_pid = of_type(events_of(run_dir), protocol.RunStarted)[0].pid
    os.kill(child_pid, signal.SIGKILL)
    crashed = wait_for_end(run_dir, timeout=120)
    assert crashed.status == "crashed", dump_log(run_dir)
    failures = of_type(events_of(run_dir), protocol.Failed)
    assert [f.status for f in failures] == ["crashed"] and "died without a final event" in failures[0].error
    read_run(run_dir)
    list_runs(base)
    assert len(of_type(events_of(run_dir), protocol.Failed)) == 1

    # Two resumes at once, from two processes: exactly one starts a child.
    command = [sys.executable, "-m", "workbench", "resume", run_dir.name, "--detach"]
    first, second = (subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab")
    results = [(p.wait(timeout=120), *p.communicate()) for p in (first, second)]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, _, err in results if code == 2)
    assert "already running" in refused and "Traceback" not in refused, refused

    final = wait_for_end(run_dir, timeout=300)
    assert final.status == "finished", dump_log(run_dir)
    events = events_of(run_dir)
    starts = of_type(events, protocol.RunStarted)
    assert len(starts) == 2 and starts[1].resumed_from_step is not None, "one resumed child, not two"
    steps = [s.step for s in of_type(events, protocol.Step)]
    resumed_at = starts[1].resumed_from_step
    assert steps[-(60 - resumed_at) :] == list(range(resumed_at + 1, 61)), "no interleaved or repeated steps"
    assert (run_dir / "final" / "config.json").exists()
    assert [f.status for f in of_type(events, protocol.Failed)] == ["crashed"]


def test_resume_by_a_relative_path_from_the_runs_folder(tiny_spec, tmp_path, monkeypatch):
    """`workbench resume ./RUN` (and a relative runs dir) used to start a child on a doubled path."""
    # Killed at its first checkpoint (step 4): enough steps after it that a busy machine cannot finish the run
    # before the kill lands (with 8 it once did, and the run was "finished" instead of "crashed").
    tiny_spec["training"].update(metrics=[], eval_strategy="no", max_steps=80, logging_steps=1, save_steps=4)
    tiny_spec["monitor"]["system_sample_interval_s"] = 0
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_RUNS_DIR", "rel-runs")
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(dump_spec(tiny_spec))
    info = launch.launch_run(spec_path)
    run_dir = info.path
    assert run_dir == tmp_path / "rel-runs" / run_dir.name
    wait_until(lambda: of_type(events_of(run_dir), protocol.CheckpointSaved), timeout=240, interval=0.05)
    launch.kill_run(run_dir)
    assert read_run(run_dir).status == "crashed"
    monkeypatch.chdir(tmp_path / "rel-runs")
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "resume", f"./{run_dir.name}", "--detach"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    final = wait_for_end(run_dir, timeout=300)
    assert final.status == "finished", dump_log(run_dir)
    assert final.step == 80
