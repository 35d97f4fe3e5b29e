"""`workbench push` finds runs as every other command does, and a dry run needs no network (issue 22, item 13)."""

from __future__ import annotations

import json

from tests.hub.conftest import RUN_ID, write_run_folder
from workbench.cli import main
from workbench.core.runs.folder import runs_dir


def test_push_accepts_the_partial_ids_and_latest_that_attach_accepts_and_dry_runs_offline(capsys):
    run_dir = write_run_folder(runs_dir())
    before = sorted(p.name for p in run_dir.rglob("*"))
    # conftest sets HF_HUB_OFFLINE=1 and there is no token: the Hub cannot be asked
    for target in ("minilm", RUN_ID[-4:], "latest", RUN_ID[9:15]):
        assert main(["push", target, "--dry-run"]) == 0, target
        captured = capsys.readouterr()
        assert f"Would push {run_dir / 'final'} to <your-user-name>/" in captured.out
        assert "Not checked against the Hub: Offline mode is on" in captured.out
        assert "config.json" in captured.out and "README.md" in captured.out
    assert main(["push", "ab12", "--repo", "alice/mrpc", "--dry-run", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["ok"] and record["offline"] and record["repo_id"] == "alice/mrpc"
    assert {f["path"] for f in record["files"]} >= {"config.json", "README.md"}
    assert sorted(p.name for p in run_dir.rglob("*")) == before, "a dry run writes nothing"


def test_push_dry_run_offline_still_checks_the_repo_id(capsys):
    write_run_folder(runs_dir())
    assert main(["push", "ab12", "--repo", "alice/bad..name", "--dry-run"]) == 2
    assert "is not valid" in capsys.readouterr().err


def test_push_a_real_push_offline_still_fails_clearly(capsys):
    write_run_folder(runs_dir())
    assert main(["push", "ab12", "--repo", "alice/mrpc"]) == 2
    err = capsys.readouterr().err
    assert "Offline mode is on" in err and "Traceback" not in err
