"""One owner per run (the lock), one resolver for every command, reads that never write, and the launch
boundary (relative paths, a full disk), on run folders written by hand and stand-in processes."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.runs.test_runs_folder import make_run, started, step
from workbench.cli import main
from workbench.core.errors import WorkbenchError
from workbench.core.runs import folder, protocol
from workbench.core.runs.folder import RunBusy, acquire_lock, lock_held, owner_alive, process_alive, resolve_run
from workbench.core.runs.follow import RunFollower
from workbench.core.runs.listing import list_runs, read_run
from workbench.training import launch
from workbench.training.spec import default_spec


@pytest.fixture
def runs_dir(isolated_dirs):
    return folder.runs_dir()


def hold_lock_in_child(run_dir: Path) -> subprocess.Popen:
    """A stand-in launched process: takes over the lock as `_start_child` hands it over (pass_fds)."""
    fd = acquire_lock(run_dir)
    try:
        return subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(60)", str(run_dir)],
            pass_fds=(fd,),
            start_new_session=True,
        )
    finally:
        os.close(fd)  # as the launcher does: from here only the child holds it


def folder_state(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


# The lock ----------------------------------------------------------------------------------------


def test_the_lock_is_exclusive_and_survives_the_launcher_closing_its_copy(runs_dir):
    run_dir = make_run(runs_dir, "20260101-000000-tiny-aaaa", [started(), step(2)])
    assert lock_held(run_dir) is None  # a folder from before locks
    child = hold_lock_in_child(run_dir)
    try:
        assert lock_held(run_dir) is True
        with pytest.raises(RunBusy, match="already running"):
            acquire_lock(run_dir, wait_s=0.1)
        assert owner_alive(run_dir) is True
        assert read_run(run_dir).status == "running", "the pid file names a dead process, but the lock is held"
    finally:
        child.kill()
        child.wait()
    assert lock_held(run_dir) is False
    assert read_run(run_dir).status == "crashed"


def test_a_second_resume_of_an_owned_run_says_already_running_and_starts_nothing(runs_dir, monkeypatch):
    run_dir = make_run(runs_dir, "20260101-000000-tiny-bbbb", [started(), step(2)])
    started_children = []
    monkeypatch.setattr(launch, "_start_child", lambda *args, **kwargs: started_children.append(args))
    child = hold_lock_in_child(run_dir)
    try:
        before = folder_state(run_dir)
        with pytest.raises(RunBusy, match="already running"):
            launch.resume_run(run_dir)
        assert main(["resume", run_dir.name, "--detach"]) == 2
        assert started_children == [] and folder_state(run_dir) == before
    finally:
        child.kill()
        child.wait()


def test_resuming_a_finished_run_is_refused_and_changes_nothing(runs_dir, capsys):
    run_dir = make_run(
        runs_dir, "20260101-000000-tiny-cccc", [started(), step(10), protocol.Finished(status="finished")]
    )
    (run_dir / "checkpoints" / "checkpoint-10").mkdir(parents=True)
    (run_dir / "checkpoints" / "checkpoint-10" / "workbench_state.json").write_text("{}")
    (run_dir / "final").mkdir()
    (run_dir / "final" / "config.json").write_text("{}")
    (run_dir / "summary.json").write_text('{"status": "finished"}')
    before = folder_state(run_dir)
    assert main(["resume", "cccc", "--detach"]) == 2
    err = capsys.readouterr().err
    assert "has finished; there is nothing to resume" in err and "Traceback" not in err
    after = folder_state(run_dir)
    after.pop("lock", None)  # the resume held the lock while it checked
    assert after == before


def test_resume_records_the_crash_of_the_previous_session_as_its_owner(runs_dir, monkeypatch):
    run_dir = make_run(runs_dir, "20260101-000000-tiny-dddd", [started(), step(6)], log="step 6\nKilled\n")
    (run_dir / "checkpoints" / "checkpoint-6").mkdir(parents=True)
    (run_dir / "checkpoints" / "checkpoint-6" / "workbench_state.json").write_text("{}")
    handed = []
    monkeypatch.setattr(launch, "_start_child", lambda spec, path, resume, lock_fd: handed.append((path, resume)))
    launch.resume_run(run_dir)
    assert handed == [(run_dir, True)]
    failures = [e for e in protocol.read_events(run_dir / "events.jsonl") if isinstance(e, protocol.Failed)]
    assert [f.status for f in failures] == ["crashed"]


def test_process_alive_counts_a_denied_permission_as_alive(monkeypatch):
    import psutil

    class Denied:
        def __init__(self, pid):
            raise psutil.AccessDenied(pid)

    monkeypatch.setattr(psutil, "Process", Denied)
    assert process_alive(12345) is True  # the engine's old check said dead: a reader then "crashed" it
    assert process_alive(None) is None


# Reads never write -------------------------------------------------------------------------------


def test_listing_a_folder_being_created_or_just_started_never_writes(runs_dir):
    """A run in the moment before its pid file exists: the lock is held, so it reads as starting."""
    run_dir = runs_dir / "20260101-000000-tiny-eeee"
    run_dir.mkdir(parents=True)
    (run_dir / "spec.toml").write_text("[model]\n")
    child = hold_lock_in_child(run_dir)
    try:
        before = folder_state(run_dir)
        for _ in range(20):
            assert [info.status for info in list_runs(runs_dir)] == ["starting"]
        assert main(["runs", "--json"]) == 0
        assert folder_state(run_dir) == before
        assert not RunFollower(run_dir).child_gone()
    finally:
        child.kill()
        child.wait()
    assert RunFollower(run_dir).child_gone()
    assert folder_state(run_dir) == before


# Bad records do not hide a run -------------------------------------------------------------------


def test_odd_records_are_skipped_one_by_one_and_counted(runs_dir, capsys):
    run_dir = make_run(runs_dir, "20260101-000000-tiny-ffff", [step(1)])
    with open(run_dir / "events.jsonl", "a") as file:
        file.write('{"v":1,"type":"run_started","time":1,"run_id":"r","spec":{},"total_steps":"many"}\n')
        file.write(
            '{"v":1,"type":"system","time":2,"cpu_percent":1,"rss_mb":2,"gpus":[{"index":0,"name":"H","x":1}]}\n'
        )
        file.write('{"v":1,"type":"step","time":3,"step":"two","epoch":0,"loss":1,"learning_rate":1}\n')
        file.write(protocol.encode(step(4)) + "\n")
        file.write(protocol.encode(protocol.Finished(status="stopped")) + "\n")
    info = read_run(run_dir)
    assert (info.status, info.step, info.skipped_lines) == ("stopped", 4, 2)
    assert main(["runs", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["skipped_lines"] == 2 and record["status"] == "stopped"
    assert main(["runs"]) == 0
    assert "2 invalid line(s) of events.jsonl skipped" in capsys.readouterr().out
    history, _ = RunFollower(run_dir).load()
    assert history.skipped_lines == 2 and history.step == 4 and history.system.gpus[0].extra == {"x": 1}


# One resolver --------------------------------------------------------------------------------------


def test_one_resolver_for_latest_parts_ids_and_relative_paths(runs_dir, monkeypatch, capsys):
    old = make_run(runs_dir, "20260101-000000-tiny-1111", [started(), protocol.Finished(status="finished")])
    new = make_run(runs_dir, "20260102-000000-tiny-2222", [started(), protocol.Finished(status="finished")])
    (runs_dir / ".20260103-000000-tiny-3333.creating").mkdir()  # being created: not a run yet
    assert resolve_run("latest", runs_dir) == new
    assert resolve_run("1111", runs_dir) == old and resolve_run("20260101", runs_dir) == old
    monkeypatch.chdir(runs_dir)
    resolved = resolve_run(f"./{old.name}", Path("elsewhere"))
    assert resolved == old and resolved.is_absolute()
    with pytest.raises(WorkbenchError, match="matches 2 runs"):
        resolve_run("tiny", runs_dir)
    opened = []
    monkeypatch.setattr("workbench.cli.run_app", lambda attach_run=None: opened.append(attach_run) or 0)
    assert main(["attach", "latest"]) == 0 and opened == [str(new)]  # `attach latest` failed before


def test_a_relative_runs_dir_and_run_path_reach_the_child_absolute(runs_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_RUNS_DIR", "rel-runs")
    data = tmp_path / "train.csv"
    data.write_text("text,label\na,x\nb,y\n")
    spec = default_spec(model="embedded", data=str(data))
    calls = []

    class FakePopen:
        def __init__(self, command, **kwargs):
            calls.append((command, kwargs))
            self.pid = 4_194_999

        def wait(self):
            return 0

    monkeypatch.setattr(launch.subprocess, "Popen", FakePopen)
    info = launch.launch_run(spec)
    assert info.path == tmp_path / "rel-runs" / info.run_id
    command, kwargs = calls[0]
    assert kwargs["cwd"] == info.path
    run_dirs = [command[i + 1] for i, part in enumerate(command) if part == "--run-dir"]
    assert run_dirs == [str(info.path)] * 2, "the supervisor and the child get the absolute folder"
    assert not any(p.name.startswith(".") for p in (tmp_path / "rel-runs").iterdir())


def test_no_space_left_when_launching_says_so_and_leaves_no_folder(runs_dir, monkeypatch, tmp_path, capsys):
    data = tmp_path / "train.csv"
    data.write_text("text,label\na,x\nb,y\n")
    spec_path = tmp_path / "spec.toml"
    from workbench.training.spec import dump_spec

    spec_path.write_text(dump_spec(default_spec(model="embedded", data=str(data))))
    real_write_text = Path.write_text

    def full_disk(self, *args, **kwargs):
        if self.name == "spec.toml" and self.parent.parent == runs_dir:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    assert main(["train", str(spec_path), "--detach"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: No space left on device: ") and f"free in {runs_dir}." in err
    assert "Traceback" not in err
    assert list(runs_dir.iterdir()) == [], "no empty or half-made run folder"


# The supervisor: the run's owner ------------------------------------------------------------------


def supervise(run_dir: Path, code: str) -> subprocess.CompletedProcess:
    """Run the supervisor as `_start_child` does, with a stand-in child command, handing it the lock."""
    fd = acquire_lock(run_dir)
    try:
        command = [sys.executable, "-m", "workbench.training.launch", "--run-dir", str(run_dir), "--lock-fd", str(fd)]
        command += ["--", sys.executable, "-c", code]
        process = subprocess.Popen(command, pass_fds=(fd,), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    finally:
        os.close(fd)
    return process


def test_the_supervisor_holds_the_lock_and_records_a_crash_once(runs_dir):
    run_dir = make_run(runs_dir, "20260101-000000-tiny-sup1", [started(), step(2)], log="step 2\nKilled\n")
    (run_dir / "control").mkdir()
    (run_dir / "control" / "launched").write_text("50.0")
    release = run_dir / "release"
    process = supervise(run_dir, f"import os, time\nwhile not os.path.exists({str(release)!r}): time.sleep(0.02)\n")
    try:
        for _ in range(100):
            if lock_held(run_dir):
                break
            time.sleep(0.05)
        assert lock_held(run_dir) and read_run(run_dir).status == "running"
        assert not launch.record_crash_if_orphaned(run_dir), "the lock is held: nobody else records anything"
    finally:
        release.write_text("")
        assert process.wait(timeout=60) == 0, process.stdout.read()
    failures = [e for e in protocol.read_events(run_dir / "events.jsonl") if isinstance(e, protocol.Failed)]
    assert [f.status for f in failures] == ["crashed"] and failures[0].traceback.endswith("Killed")
    assert lock_held(run_dir) is False and read_run(run_dir).status == "crashed"


def test_the_supervisor_records_nothing_after_a_final_event(runs_dir):
    run_dir = make_run(runs_dir, "20260101-000000-tiny-sup2", [started(time=100.0), step(2)])
    (run_dir / "control").mkdir()
    (run_dir / "control" / "launched").write_text("50.0")
    final = protocol.encode(protocol.Finished(status="stopped", summary={"steps": 2}))
    events = run_dir / "events.jsonl"
    process = supervise(run_dir, f"open({str(events)!r}, 'a').write({final!r} + '\\n')")
    assert process.wait(timeout=60) == 0
    assert read_run(run_dir).status == "stopped"
    assert not [e for e in protocol.read_events(events) if isinstance(e, protocol.Failed)]


def test_an_attached_follower_ends_on_a_dead_run_and_records_its_crash_once(runs_dir):
    from workbench.commands.progress import follow_run

    run_dir = make_run(runs_dir, "20260101-000000-tiny-fol1", [started(), step(2)], log="step 2\nKilled\n")
    seen = []
    final = follow_run(run_dir, seen.append, interval=0.01, liveness_every_s=0.0)
    assert isinstance(final, protocol.Failed) and final.status == "crashed"
    assert [type(e).__name__ for e in seen] == ["RunStarted", "Step", "Failed"]
    failures = [e for e in protocol.read_events(run_dir / "events.jsonl") if isinstance(e, protocol.Failed)]
    assert len(failures) == 1 and failures[0].traceback.endswith("Killed")


def test_a_spec_of_odd_types_still_lists(runs_dir):
    run_dir = make_run(runs_dir, "20260101-000000-tiny-odd1", [started(), step(2), protocol.Finished(status="stopped")])
    (run_dir / "spec.toml").write_text('model = "flat"\ndata = 3\n[training]\nmetrics = "accuracy"\n')
    with open(run_dir / "events.jsonl", "a") as file:
        file.write(protocol.encode(protocol.Evaluation(step=2, epoch=1.0, metrics={"eval_loss": "low"})) + "\n")
        file.write(protocol.encode(protocol.Finished(status="paused-by-future", summary={"steps": "x"})) + "\n")
    info = list_runs(runs_dir)[0]
    assert (info.model, info.dataset, info.status, info.best_metric) == ("?", "?", "failed", None)


def test_a_failed_launch_removes_only_what_it_made(runs_dir, monkeypatch, tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("text,label\na,x\nb,y\n")
    spec = default_spec(model="embedded", data=str(data))
    other = make_run(runs_dir, "20260101-000000-minilm-beef", [started()])
    monkeypatch.setattr(launch, "new_run_id", lambda spec: other.name)  # an id collision with a live folder
    before = folder_state(other)
    with pytest.raises(WorkbenchError, match="Cannot create the run folder"):
        launch.launch_run(spec)
    assert folder_state(other) == before and sorted(p.name for p in runs_dir.iterdir()) == [other.name]

    def no_lock(run_dir, wait_s=0.5):
        raise WorkbenchError("Cannot lock run x: Function not implemented")

    monkeypatch.setattr(launch, "new_run_id", lambda spec: "20260101-000001-minilm-cafe")
    monkeypatch.setattr(launch, "acquire_lock", no_lock)
    with pytest.raises(WorkbenchError, match="Cannot lock run"):
        launch.launch_run(spec)
    assert sorted(p.name for p in runs_dir.iterdir()) == [other.name], "no hidden half-made folder left"
