"""Spare processes' parts: the switch (on unless turned off), finding the live ones, a run spare waiting for
the run it was started beside, and `workbench spares`."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from workbench.core import spares
from workbench.core.runs.protocol import EventWriter, Finished, LogLine, Step
from workbench.training.spare import RunProgress, wait_for_first_step


def test_spares_are_on_unless_turned_off():
    assert spares.enabled({})
    assert spares.enabled({spares.SPARE_ENV: "1"})
    for off in ("0", "false", "No", " off "):
        assert not spares.enabled({spares.SPARE_ENV: off})


def test_only_running_spares_are_alive_and_stale_files_go(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / f"run-{sleeper.pid}.pid").write_text(str(sleeper.pid))
        ended = subprocess.Popen([sys.executable, "-c", "pass"])
        ended.wait()
        (tmp_path / f"run-{ended.pid}.sock").write_text("")
        (tmp_path / f"demo-{ended.pid}.pid").write_text("")
        assert spares.alive(tmp_path, "run") == [sleeper.pid]
        assert spares.alive(tmp_path, "demo") == []
        assert sorted(path.name for path in tmp_path.iterdir()) == [f"run-{sleeper.pid}.pid"]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert spares.alive(tmp_path, "run") == []


def _emit_later(path, event, delay_s=0.3):
    def write():
        time.sleep(delay_s)
        with EventWriter(path) as writer:
            writer.emit(LogLine(message="loading"))
            writer.emit(event)

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def test_a_run_spare_waits_for_the_first_step_or_the_end_of_the_run_beside_it(tmp_path):
    stepped, ended, silent = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    writer = _emit_later(
        stepped / "events.jsonl", Step(time=time.time(), step=1, epoch=0.0, loss=1.0, learning_rate=0.1)
    )
    assert wait_for_first_step(RunProgress(stepped), timeout_s=30, interval_s=0.05) == "step"
    writer.join()
    writer = _emit_later(ended / "events.jsonl", Finished(status="stopped"))
    assert wait_for_first_step(RunProgress(ended), timeout_s=30, interval_s=0.05) == "ended"
    writer.join()
    assert (
        wait_for_first_step(RunProgress(silent), timeout_s=0.2, interval_s=0.05) == "timeout"
    )  # no events file at all


def test_the_spares_command_lists_and_ends_them(tmp_path, monkeypatch, capsys):
    from workbench.cli import main

    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(tmp_path))
    folder = tmp_path / spares.SPARE_DIR
    folder.mkdir()
    pid = spares.start([sys.executable, "-c", "import time; time.sleep(60)"], folder, "demo")
    assert main(["spares"]) == 0
    listed = capsys.readouterr().out
    assert f"demo  pid {pid}" in listed and "starting" in listed and "off here (WORKBENCH_SPARE_RUN=0)" in listed
    assert main(["spares", "--stop"]) == 0
    assert "Ended 1 spare process " in capsys.readouterr().out
    deadline = time.monotonic() + 10
    while spares.alive(folder, "demo") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert spares.alive(folder, "demo") == []
    assert main(["spares"]) == 0
    assert "No spare processes" in capsys.readouterr().out


def test_a_spare_idles_from_the_end_of_the_run_beside_it(tmp_path, monkeypatch):
    from workbench.training import spare

    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    alone = spare.IdleClock(60, None)
    clock[0] += 59
    assert not alone.expired()
    clock[0] += 2
    assert alone.expired()

    run_dir = tmp_path / "run"
    beside = spare.IdleClock(60, spare.RunProgress(run_dir))
    clock[0] += 3600  # an hour of training: the next run is still to come
    assert not beside.expired()
    with EventWriter(run_dir / "events.jsonl") as writer:
        writer.emit(Finished(status="finished"))
    assert not beside.expired()  # its idle time starts now
    clock[0] += 61
    assert beside.expired()
