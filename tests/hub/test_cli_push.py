"""`workbench push` headless, and the token staying out of everything it writes."""

from __future__ import annotations

import json

from tests.hub.conftest import RUN_ID, write_run_folder
from tests.hub.fake_hub import READ_TOKEN, WRITE_TOKEN
from workbench.cli import main
from workbench.core.settings import load_settings


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_push_by_run_id_json(hub, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    write_run_folder(load_settings().runs_path)
    assert main(["push", RUN_ID, "--repo", "alice/bert-mrpc", "--private", "--json"]) == 0
    result = _json(capsys)
    assert result["ok"] and result["created_repo"] and result["repo_url"] == f"{hub.url}/alice/bert-mrpc"
    assert result["commit_id"] == hub.repo("alice/bert-mrpc").head("main").oid
    assert hub.repo("alice/bert-mrpc").private
    # again: nothing changed, no empty commit
    assert main(["push", RUN_ID, "--repo", "alice/bert-mrpc", "--json"]) == 0
    again = _json(capsys)
    assert again["nothing_changed"] and again["commit_id"] == result["commit_id"]
    # without --repo the run goes where it went last time (recorded in the run folder)
    assert main(["push", RUN_ID, "--json"]) == 0
    assert _json(capsys)["repo_id"] == "alice/bert-mrpc"
    records = (load_settings().runs_path / RUN_ID / "hub_pushes.jsonl").read_text().splitlines()
    assert len(records) == 3 and json.loads(records[0])["commit_id"] == result["commit_id"]


def test_default_repo_id_from_whoami_and_run(hub, monkeypatch, capsys, run_dir):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    assert main(["push", str(run_dir), "--json"]) == 0
    assert _json(capsys)["repo_id"] == "alice/bert-base-uncased-mrpc"


def test_branch_and_pr_flags(hub, monkeypatch, capsys, run_dir):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    hub.add_repo("big-lab/bert", {"README.md": b"# old\n"})
    assert main(["push", str(run_dir), "--repo", "big-lab/bert", "--create-pr", "-m", "Add MRPC model", "--json"]) == 0
    result = _json(capsys)
    assert result["pr_url"].endswith("/big-lab/bert/discussions/1")
    assert main(["push", str(run_dir), "--repo", "alice/b", "--branch", "dev", "--json"]) == 0
    assert _json(capsys)["branch"] == "dev" and "config.json" in hub.repo("alice/b").head("dev").files


def test_text_output_and_error_exit_code(hub, monkeypatch, capsys, run_dir):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    assert main(["push", str(run_dir), "--repo", "alice/text"]) == 0
    out = capsys.readouterr()
    assert f"Pushed 5 file(s) to {hub.url}/alice/text (new repository)" in out.out and "Commit: " in out.out
    assert "[5/5]" in out.err
    assert main(["push", str(run_dir), "--repo", "alice/text", "--new-repo"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_json_error_for_read_only_token(hub, monkeypatch, capsys, run_dir):
    monkeypatch.setenv("HF_TOKEN", READ_TOKEN)
    assert main(["push", str(run_dir), "--repo", "alice/x", "--json"]) == 2
    error = _json(capsys)["error"]
    assert error["kind"] == "read_only" and error["title"] == "Read-only token"


def test_dry_run_lists_files_and_sends_nothing(hub, monkeypatch, capsys, run_dir):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    assert main(["push", str(run_dir), "--repo", "alice/dry", "--exclude", "vocab.txt", "--dry-run", "--json"]) == 0
    result = _json(capsys)
    assert [f["path"] for f in result["files"]] == [
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer_config.json",
    ]
    assert result["token_source"] == "HF_TOKEN environment variable"
    assert hub.count("POST", "/api/repos/create|/commit/") == 0


def test_weights_cut_short_are_refused_before_anything_is_sent(hub, monkeypatch, capsys, run_dir):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    weights = run_dir / "final" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])  # an interrupted copy
    assert main(["push", str(run_dir), "--repo", "alice/cut-short", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "model.safetensors is cut short" in err and "cannot be loaded" in err and "Traceback" not in err
    assert hub.count("POST", "/api/repos/create|/commit/") == 0


def test_card_file_option_and_invalid_card(hub, monkeypatch, capsys, run_dir, tmp_path):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    card = tmp_path / "README.md"
    card.write_text("---\nlicense: nonsense\n---\n# x\n")
    assert main(["push", str(run_dir), "--repo", "alice/c", "--card", str(card), "--json"]) == 2
    assert _json(capsys)["error"]["kind"] == "invalid_card"


def test_no_token_message(hub, capsys, run_dir):
    assert main(["push", str(run_dir), "--repo", "alice/x"]) == 2
    err = capsys.readouterr().err
    assert "No Hugging Face token found" in err and "HF_TOKEN" in err


def test_token_never_written_anywhere(hub, monkeypatch, capsys, run_dir, isolated_dirs):
    """After pushes (success and failures) the token is in no output, run file, settings or data file."""
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    main(["push", str(run_dir), "--repo", "alice/secret", "--json"])
    main(["push", str(run_dir), "--repo", "someone/else", "--json"])
    hub.drop_next("commit")
    main(["push", str(run_dir), "--repo", "alice/secret2"])
    monkeypatch.setenv("HF_TOKEN", "hf_badTokenThatMustNotLeak")
    main(["push", str(run_dir), "--repo", "alice/secret3"])
    captured = capsys.readouterr()
    for secret in (WRITE_TOKEN, "hf_badTokenThatMustNotLeak"):
        assert secret not in captured.out and secret not in captured.err
        for folder in (run_dir, isolated_dirs):
            for path in folder.rglob("*"):
                if path.is_file():
                    assert secret.encode() not in path.read_bytes(), path
