"""Reading run folders and the headless CLI, on folders written by hand (no child process)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from workbench.cli import main
from workbench.commands.progress import Progress, format_duration
from workbench.core.errors import WorkbenchError
from workbench.core.runs import listing, protocol
from workbench.training import launch, runs
from workbench.training.spec import default_spec, dump_spec


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def make_run(runs_dir, name, events, *, pid=None, log="step 1/10 loss 0.7\n"):
    run_dir = runs_dir / name
    run_dir.mkdir(parents=True)
    spec = default_spec(model="/models/tiny", data="/data/train.csv")
    (run_dir / "spec.toml").write_text(dump_spec(spec))
    (run_dir / "stdout.log").write_text(log)
    (run_dir / "pid").write_text(str(pid or dead_pid()))
    with protocol.EventWriter(run_dir / "events.jsonl") as writer:
        for event in events:
            writer.emit(event)
    return run_dir


def started(total=10, time=100.0):
    return protocol.RunStarted(run_id="r", spec={}, total_steps=total, time=time)


def step(number, loss=0.5):
    return protocol.Step(step=number, epoch=number / 10, loss=loss, learning_rate=1e-4)


@pytest.fixture
def runs_dir(isolated_dirs):
    return runs.default_runs_dir()


def test_finished_run_reads_back(runs_dir):
    run_dir = make_run(
        runs_dir,
        "20260101-000000-tiny-aaaa",
        [
            started(),
            step(5),
            protocol.Evaluation(step=5, epoch=0.5, metrics={"eval_loss": 0.4, "accuracy": 0.8}),
            protocol.Evaluation(step=10, epoch=1.0, metrics={"eval_loss": 0.5, "accuracy": 0.75}),
            step(10),
            protocol.Finished(status="finished", summary={"steps": 10}, time=200.0),
        ],
    )
    info = runs.read_run(run_dir)
    assert (info.status, info.step, info.total_steps) == ("finished", 10, 10)
    assert info.best_metric == ("accuracy", 0.8)
    assert (info.started_at, info.ended_at) == (100.0, 200.0)
    assert info.model == "/models/tiny" and info.dataset == "data/train.csv"


def test_dead_child_without_final_event_reads_crashed_and_reading_writes_nothing(runs_dir):
    run_dir = make_run(
        runs_dir, "20260101-000000-tiny-bbbb", [started(), step(3)], log="loading\nstep 3/10 loss 0.5\nKilled\n"
    )
    before = (run_dir / "events.jsonl").read_bytes()
    info = runs.read_run(run_dir)
    assert info.status == "crashed" and "died without a final event" in info.error
    assert [i.status for i in runs.list_runs(runs_dir)] == ["crashed"]
    assert (run_dir / "events.jsonl").read_bytes() == before, "a read never writes"
    assert not (run_dir / "lock").exists()
    # The owner records it: here a follower (the attached CLI) finding the lock free and the child gone.
    assert launch.record_crash_if_orphaned(run_dir)
    failures = [e for e in protocol.read_events(run_dir / "events.jsonl") if isinstance(e, protocol.Failed)]
    assert len(failures) == 1 and failures[0].traceback.endswith("Killed")
    assert not launch.record_crash_if_orphaned(run_dir), "recorded once"


@pytest.mark.parametrize("content", [b"garbage\n\x00\x01\n", b'{"v":1,"type":"run_sta'], ids=["garbage", "cut-short"])
def test_a_corrupt_events_file_is_named_not_taken_for_a_killed_child(runs_dir, content):
    run_dir = make_run(runs_dir, "20260101-000000-tiny-cccc", [])
    (run_dir / "events.jsonl").write_bytes(content)
    info = runs.read_run(run_dir)
    assert info.status == "crashed" and "died without a final event" not in info.error
    assert info.error.startswith("events.jsonl is corrupt: it holds no readable run record")
    assert (run_dir / "events.jsonl").read_bytes() == content, "a read never writes"
    # Its owner's crash record says the same (it said "killed, or out of memory").
    launch.record_crash(run_dir)
    failure = protocol.read_events(run_dir / "events.jsonl")[-1]
    assert failure.status == "crashed" and failure.error.startswith("events.jsonl is corrupt")
    assert runs.read_run(run_dir).error == failure.error


def test_out_of_memory_in_the_log_gets_a_suggestion(runs_dir):
    run_dir = make_run(
        runs_dir,
        "20260101-000000-tiny-cccc",
        [started()],
        log="torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.00 GiB\n",
    )
    launch.record_crash(run_dir)
    failure = protocol.read_events(run_dir / "events.jsonl")[-1]
    assert "per_device_train_batch_size" in failure.suggestion


def test_disk_full_in_the_log_is_named_in_the_crash_record(runs_dir):
    run_dir = make_run(
        runs_dir, "20260101-000000-tiny-cccd", [started()], log="OSError: [Errno 28] No space left on device\n"
    )
    launch.record_crash(run_dir)
    failure = protocol.read_events(run_dir / "events.jsonl")[-1]
    assert failure.status == "crashed" and "no space left on device" in failure.error and str(run_dir) in failure.error


def test_a_live_run_reads_running(runs_dir, tmp_path):
    # A stand-in child whose command line names the run folder, as the real one does.
    run_dir = runs_dir / "20260101-000000-tiny-dddd"
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", str(run_dir)])
    try:
        make_run(runs_dir, run_dir.name, [started(), step(2)], pid=process.pid)
        info = runs.read_run(run_dir)
        assert info.status == "running" and info.step == 2 and info.pid == process.pid
        runs.stop_run(run_dir)
        assert (run_dir / "control" / "stop").exists()
        with pytest.raises(WorkbenchError, match="already running"):
            runs.resume_run(run_dir)
    finally:
        process.kill()
        process.wait()


def test_a_folder_is_parsed_again_only_when_its_files_change(runs_dir, monkeypatch):
    run_dir = make_run(
        runs_dir,
        "20260101-000000-tiny-ffff",
        [started(), step(5), protocol.Finished(status="finished", summary={"steps": 5}, time=200.0)],
    )
    parsed = []
    real_read_events = listing.read_events
    monkeypatch.setattr(listing, "read_events", lambda path: parsed.append(path) or real_read_events(path))
    first = runs.read_run(run_dir)
    assert runs.list_runs(runs_dir)[0] == first and runs.read_run(run_dir) == first
    assert len(parsed) == 1
    # A resume appends events: the next read sees them.
    with protocol.EventWriter(run_dir / "events.jsonl") as writer:
        writer.emit(step(8))
        writer.emit(protocol.Finished(status="finished", summary={"steps": 8}, time=300.0))
    assert runs.read_run(run_dir).step == 8 and len(parsed) == 2


def test_a_cached_live_run_whose_child_died_is_read_again_and_crashed(runs_dir):
    run_dir = runs_dir / "20260101-000000-tiny-eeee"
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", str(run_dir)])
    try:
        make_run(runs_dir, run_dir.name, [started(), step(2)], pid=process.pid)
        assert runs.read_run(run_dir).status == "running"
    finally:
        process.kill()
        process.wait()
    assert runs.read_run(run_dir).status == "crashed", "no file changed, but the child is gone"


def test_list_runs_newest_first_and_survives_corrupt_folders(runs_dir):
    make_run(runs_dir, "20260101-000000-tiny-eeee", [started(time=100.0), protocol.Finished(status="stopped")])
    make_run(runs_dir, "20260102-000000-tiny-ffff", [started(time=200.0), protocol.Finished(status="finished")])
    broken = runs_dir / "20260103-000000-tiny-gggg"
    broken.mkdir()
    (broken / "spec.toml").write_text("not [toml")
    (broken / "events.jsonl").write_bytes(b'\xff\xfe garbage\n{"v":1,"type":"step"')
    infos = runs.list_runs(runs_dir)
    assert [i.run_id for i in infos][1:] == ["20260102-000000-tiny-ffff", "20260101-000000-tiny-eeee"]
    assert infos[0].run_id == "20260103-000000-tiny-gggg" and infos[0].status == "crashed"
    assert infos[0].skipped_lines == 1  # the garbage line; the truncated last line may still be being written


def test_resume_needs_a_checkpoint(runs_dir):
    run_dir = make_run(runs_dir, "20260101-000000-tiny-hhhh", [started(), protocol.Finished(status="stopped")])
    with pytest.raises(WorkbenchError, match="no checkpoint"):
        runs.resume_run(run_dir)


def test_cli_runs_logs_and_stop(runs_dir, capsys):
    make_run(
        runs_dir,
        "20260101-000000-tiny-iiii",
        [started(), step(10), protocol.Finished(status="finished")],
        log="hello from the child\n",
    )
    assert main(["runs", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["run_id"] == "20260101-000000-tiny-iiii" and record["status"] == "finished"
    assert main(["runs"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:2] == ["RUN", "STATUS"] and "finished" in table
    assert main(["logs", "iiii"]) == 0
    assert capsys.readouterr().out == "hello from the child\n"
    assert main(["logs", "latest", "-f"]) == 0  # the run has ended: prints and returns
    assert main(["stop", "iiii"]) == 2
    assert "not running" in capsys.readouterr().err
    assert main(["logs", "nope"]) == 2


def test_train_init_writes_a_commented_spec(tmp_path, capsys):
    target = tmp_path / "spec.toml"
    assert main(["train", "--init", str(target), "--model", "embedded", "--data", "train.csv"]) == 0
    text = target.read_text()
    assert "# peak learning rate of AdamW" in text and 'train_file = "train.csv"' in text
    assert "data.train_file: file not found" in capsys.readouterr().out
    assert main(["train", "--init", str(target)]) == 2  # no overwrite without --force
    assert main(["train", "--init"]) == 0
    assert "[training]" in capsys.readouterr().out


def test_progress_lines():
    out = io.StringIO()
    progress = Progress(out, tty=False)
    progress.show(
        protocol.RunStarted(run_id="r", spec={}, total_steps=100, devices=[{"type": "cpu", "name": "x86"}], time=0.0)
    )
    progress.show(protocol.Step(step=10, epoch=0.1, loss=0.69, learning_rate=5e-5, samples_per_s=32.0, time=10.0))
    progress.show(protocol.Step(step=20, epoch=0.2, loss=0.5, learning_rate=4e-5, samples_per_s=32.0, time=20.0))
    progress.show(protocol.Alert(kind="loss_spike", message="The loss jumped", step=20))
    progress.show(protocol.Failed(error="boom", suggestion="try less", status="failed"))
    lines = out.getvalue().splitlines()
    assert lines[0] == "run r: 100 steps on x86"
    assert lines[2].startswith("step 20/100 [####") and "loss 0.5000" in lines[2] and lines[2].endswith("ETA 01:20")
    assert lines[3] == "ALERT loss_spike: The loss jumped"
    assert lines[-2:] == ["run failed: boom", "hint: try less"]
    assert format_duration(3725) == "1:02:05" and format_duration(None) == "--:--"


def test_ctrl_c_while_attached_stops_the_run_and_keeps_following(monkeypatch, tmp_path, capsys):
    from workbench.commands import progress as follow
    from workbench.commands import train as train_command

    calls, stops = [], []

    def fake_follow(run_dir, on_event, reader=None):
        calls.append(reader)
        if len(calls) == 1:
            raise KeyboardInterrupt
        on_event(protocol.Finished(status="stopped", summary={"steps": 7}))
        return protocol.Finished(status="stopped", summary={"steps": 7})

    monkeypatch.setattr(follow, "follow_run", fake_follow)
    monkeypatch.setattr(launch, "stop_run", stops.append)
    assert train_command.attach(tmp_path) == 0
    assert stops == [tmp_path] and len(calls) == 2 and calls[0] is calls[1]  # same reader: nothing shown twice
    captured = capsys.readouterr()
    assert "stopping after the current step" in captured.err and "run stopped after 7 steps" in captured.out


def test_second_ctrl_c_detaches(monkeypatch, tmp_path, capsys):
    from workbench.commands import progress as follow
    from workbench.commands import train as train_command

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(follow, "follow_run", interrupted)
    monkeypatch.setattr(launch, "stop_run", lambda run_dir: None)
    assert train_command.attach(tmp_path) == 130
    assert "detached; the run goes on" in capsys.readouterr().err
