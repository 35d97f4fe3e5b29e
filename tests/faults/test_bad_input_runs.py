"""A table of bad inputs to the run commands (runs, logs, stop, resume, attach, push, train's launch side).

Each case: a clear message on stderr naming the thing (the `workbench: ` line, plus at most a hint line),
a non-zero exit, no traceback, and nothing changed on disk (the whole runs folder hashed before and after).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.hub.conftest import write_run_folder
from workbench.cli import main
from workbench.core.runs import protocol
from workbench.training.spec import default_spec, dump_spec

DEAD_PID = "4194999"  # above Linux's largest pid_max: never alive


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder`, with a hash of each file's bytes."""
    state = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        state[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return state


def run_folder(runs_dir: Path, name: str, lines: list[str], *, spec: str | None = None, extra=()) -> Path:
    run_dir = runs_dir / name
    run_dir.mkdir(parents=True)
    if spec is None:
        spec = dump_spec(default_spec(model="/models/tiny", data="/data/train.csv"))
    (run_dir / "spec.toml").write_text(spec)
    (run_dir / "stdout.log").write_text("step 1\n")
    (run_dir / "pid").write_text(DEAD_PID)
    (run_dir / "events.jsonl").write_text("".join(line + "\n" for line in lines))
    for relative in extra:
        path = run_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    return run_dir


def line(event: protocol.Event) -> str:
    return protocol.encode(event)


STARTED = line(protocol.RunStarted(run_id="r", spec={}, total_steps=10, time=100.0))
STEP = line(protocol.Step(step=3, epoch=0.3, loss=0.5, learning_rate=1e-4, time=101.0))
FINISHED = line(protocol.Finished(status="finished", summary={"steps": 10}, time=200.0))
STOPPED = line(protocol.Finished(status="stopped", summary={"steps": 3}, time=200.0))
CHECKPOINT = ("checkpoints/checkpoint-3/workbench_state.json",)


@pytest.fixture
def runs_dir(isolated_dirs, tmp_path, monkeypatch):
    """Runs of every kind a user may point a command at, and a folder that is not a run."""
    from workbench.core.runs.folder import runs_dir as settings_runs_dir

    base = settings_runs_dir()
    run_folder(base, "20260101-000000-tiny-fin1", [STARTED, STEP, FINISHED], extra=("final/config.json", *CHECKPOINT))
    run_folder(base, "20260102-000000-tiny-stp1", [STARTED, STEP, STOPPED])  # stopped, no checkpoint
    run_folder(base, "20260103-000000-tiny-spc1", [STARTED, STEP, STOPPED], spec="not [toml", extra=CHECKPOINT)
    run_folder(
        base,
        "20260104-000000-odd-bad1",
        [
            "garbage",
            '{"v":1,"type":"run_started","time":1,"run_id":"r","spec":{},"total_steps":"many"}',
            '{"v":9,"type":"step","time":2,"step":1,"epoch":0,"loss":1,"learning_rate":1}',
            '{"v":1,"type":"step","time":3,"step":2,"epoch":0,"loss":NaN,"learning_rate":1}',
            '{"v":1,"type":"system","time":4,"cpu_percent":"busy","rss_mb":1}',
            STOPPED,
        ],
    )
    bad_pid = run_folder(base, "20260105-000000-odd-pid1", [STARTED, STEP, STOPPED])
    (bad_pid / "pid").write_bytes(b"\xff\xfe not a pid")
    write_run_folder(base)  # 20261128-120000-minilm-ab12: a finished run with a final model
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "not-a-run" / "notes.txt").write_text("hello")
    (tmp_path / "a-file.txt").write_text("hello")
    monkeypatch.chdir(tmp_path)
    return base


CASES = [
    # attach: the app must not open on a run that cannot be found
    (["attach", "nope"], "No run 'nope' in"),
    (["attach", ""], "No run given"),
    (["attach", "   "], "No run given"),
    (["attach", "tiny"], "'tiny' matches 3 runs"),
    (["attach", "odd"], "'odd' matches 2 runs"),
    (["attach", "2026"], "matches 6 runs"),
    (["attach", "./nope"], "No run folder ./nope"),
    (["attach", "/nonexistent/run/folder"], "No run folder /nonexistent/run/folder"),
    (["attach", "./not-a-run"], "./not-a-run is not a run folder"),
    (["attach", "./a-file.txt"], "./a-file.txt is not a run folder"),
    (["attach", "~/definitely-not-a-run-xyz"], "No run folder ~/definitely-not-a-run-xyz"),
    (["attach", "../"], "../ is not a run folder"),
    # logs
    (["logs", "nope"], "No run 'nope' in"),
    (["logs", "tiny"], "'tiny' matches 3 runs"),
    (["logs", "./not-a-run"], "./not-a-run is not a run folder"),
    (["logs", "fin1", "-n", "-3"], "-n/--lines must be 0 or more"),
    (["logs", ""], "No run given"),
    # stop
    (["stop", "fin1"], "Run 20260101-000000-tiny-fin1 is not running (it is finished)"),
    (["stop", "stp1"], "is not running (it is stopped)"),
    (["stop", "bad1"], "is not running (it is stopped)"),
    (["stop", "fin1", "--kill"], "is not running (it is finished); there is nothing to kill"),
    (["stop", "stp1", "--kill"], "nothing to kill"),
    (["stop", "nope"], "No run 'nope' in"),
    (["stop", "tiny", "--kill"], "'tiny' matches 3 runs"),
    (["stop", "./a-file.txt"], "is not a run folder"),
    # resume
    (["resume", "fin1"], "has finished; there is nothing to resume"),
    (["resume", "fin1", "--detach", "--json"], "has finished; there is nothing to resume"),
    (["resume", "ab12"], "has finished; there is nothing to resume"),
    (["resume", "stp1"], "has no checkpoint to resume from"),
    (["resume", "spc1"], "has no readable spec.toml"),
    (["resume", "bad1"], "has no checkpoint to resume from"),
    (["resume", "pid1"], "has no checkpoint to resume from"),
    (["resume", "nope"], "No run 'nope' in"),
    (["resume", "tiny"], "'tiny' matches 3 runs"),
    (["resume", "./not-a-run"], "./not-a-run is not a run folder"),
    (["resume", ""], "No run given"),
    (["resume", "latest"], "has finished; there is nothing to resume"),
    # push: run resolution and what a run can give
    (["push", "nope", "--dry-run"], "No run 'nope' in"),
    (["push", "tiny", "--dry-run"], "'tiny' matches 3 runs"),
    (["push", "stp1", "--dry-run"], "has no model to push yet"),
    (["push", "bad1", "--dry-run"], "has no model to push yet"),
    (["push", "ab12", "--dry-run", "--card", "missing-card.md"], "Cannot read the model card missing-card.md"),
    (["push", "ab12", "--dry-run", "--repo", "a/b/c"], "Repository id 'a/b/c' is not valid"),
    (["push", "./not-a-run", "--dry-run"], "does not look like a model folder"),
    # train, the launch side
    (["train", "missing-spec.toml", "--detach"], "missing-spec.toml"),
    (["train", "a-file.txt", "--detach"], "a-file.txt"),
    (["train", "not-a-run", "--detach"], "not-a-run"),
    (["train", "--detach"], "Give a spec file"),
]


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(argv) or "empty" for argv, _ in CASES])
def test_bad_input_gets_a_clear_message_and_changes_nothing(runs_dir, tmp_path, capsys, argv, message):
    before = snapshot(tmp_path)
    code = main(argv)
    captured = capsys.readouterr()
    assert code != 0, captured
    err = captured.err
    assert err.startswith("workbench: "), err
    assert message in err.splitlines()[0], err
    assert len(err.strip().splitlines()) <= 2, f"a message and at most a hint: {err!r}"
    assert "Traceback" not in err + captured.out
    assert snapshot(tmp_path) == before, "nothing changed on disk"


def test_runs_lists_every_odd_folder_without_writing(runs_dir, tmp_path, capsys):
    import json

    before = snapshot(tmp_path)
    assert main(["runs", "--json"]) == 0
    records = {r["run_id"][-4:]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert set(records) == {"ab12", "pid1", "bad1", "spc1", "stp1", "fin1"}
    assert records["bad1"]["status"] == "stopped" and records["bad1"]["skipped_lines"] == 4
    assert "newer workbench" in records["bad1"]["error"]
    assert records["spc1"]["model"] == "?" and records["pid1"]["status"] == "stopped"
    assert main(["runs"]) == 0 and "Traceback" not in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_a_runs_dir_that_is_a_file_is_named(isolated_dirs, tmp_path, monkeypatch, capsys):
    target = tmp_path / "runs-file"
    target.write_text("x")
    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(target))
    assert main(["runs"]) == 2
    err = capsys.readouterr().err
    assert f"The runs folder {target} is a file" in err and "Traceback" not in err
    assert main(["logs", "latest"]) == 2
    assert "No runs yet in" in capsys.readouterr().err


def test_a_relative_runs_dir_is_read_from_the_current_folder(isolated_dirs, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_RUNS_DIR", "my-runs")
    run_folder(tmp_path / "my-runs", "20260101-000000-tiny-rel1", [STARTED, STOPPED])
    os.chdir(tmp_path)
    assert main(["logs", "rel1"]) == 0
    assert capsys.readouterr().out == "step 1\n"
    assert main(["resume", "./my-runs/20260101-000000-tiny-rel1"]) == 2
    assert "has no checkpoint to resume from" in capsys.readouterr().err


def test_resume_refuses_a_saved_spec_training_would_reject(runs_dir, tmp_path, capsys):
    # It started a child that failed on the value, turning the stopped run into a failed one.
    spec = default_spec(model="/models/tiny", data="/data/train.csv")
    spec["training"]["learning_rate"] = "fast"
    run_folder(runs_dir, "20260107-000000-edit-typ1", [STARTED, STEP, STOPPED], spec=dump_spec(spec), extra=CHECKPOINT)
    before = snapshot(tmp_path)
    assert main(["resume", "typ1", "--detach"]) == 2
    err = capsys.readouterr().err
    assert "20260107-000000-edit-typ1/spec.toml has 1 problem(s)" in err
    assert "training.learning_rate: must be a number, not 'fast'" in err and "Traceback" not in err
    assert snapshot(tmp_path) == before, "nothing changed on disk"


def test_resume_lets_keys_of_another_version_through(runs_dir, capsys, monkeypatch):
    from workbench.training import launch

    spec = dump_spec(default_spec(model="/models/tiny", data="/data/train.csv")) + "\n[future]\nx = 1\n"
    run_folder(runs_dir, "20260107-000000-edit-fut1", [STARTED, STEP, STOPPED], spec=spec, extra=CHECKPOINT)
    started = []  # the check lives in launch.resume_run (the app resumes through it too): stop at the child
    monkeypatch.setattr(launch, "_start_child", lambda spec, run_dir, **kw: started.append(Path(run_dir).name))
    assert main(["resume", "fut1", "--detach"]) == 0
    assert started == ["20260107-000000-edit-fut1"]


def test_the_app_resume_path_refuses_the_rejected_spec_too(runs_dir):
    from workbench.training import launch
    from workbench.training.spec import SpecError

    spec = default_spec(model="/models/tiny", data="/data/train.csv")
    spec["training"]["learning_rate"] = "fast"
    folder = run_folder(
        runs_dir, "20260107-000000-edit-app1", [STARTED, STEP, STOPPED], spec=dump_spec(spec), extra=CHECKPOINT
    )
    with pytest.raises(SpecError, match="training.learning_rate: must be a number"):
        launch.resume_run(folder)
