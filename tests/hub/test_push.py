"""The push core (workbench.core.hub) against the fake Hub through the real huggingface_hub client."""

from __future__ import annotations

import json
import socket

import pytest

from tests.hub.fake_hub import READ_TOKEN, WRITE_TOKEN
from workbench.core.hub.card import default_card
from workbench.core.hub.client import HubClient
from workbench.core.hub.errors import HubError
from workbench.core.hub.push import PushPlan, preflight, push
from workbench.core.hub.source import resolve_source

WRITES = r"/api/repos/create|/preupload/|/commit/|/branch/"


def plan_for(run_dir, repo_id="alice/bert-mrpc", **options) -> PushPlan:
    source = resolve_source(run_dir)
    return PushPlan(folder=source.folder, repo_id=repo_id, card_text=default_card(source, repo_id), **options)


def test_push_run_creates_repo_with_files_and_card(hub, client, run_dir):
    stages = []
    result = push(plan_for(run_dir), client, on_progress=lambda p: stages.append((p.stage, p.files_done)))
    repo = hub.repo("alice/bert-mrpc")
    assert result.created_repo and result.commit_id == repo.head("main").oid
    assert result.repo_url == f"{hub.url}/alice/bert-mrpc"
    assert result.commit_url.endswith(result.commit_id)
    assert sorted(result.uploaded) == [
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer_config.json",
        "vocab.txt",
    ]
    assert "training_notes.tmp" not in repo.head("main").files  # excluded by default
    assert hub.file("alice/bert-mrpc", "config.json") == (run_dir / "final" / "config.json").read_bytes()
    readme = hub.file("alice/bert-mrpc", "README.md").decode()
    assert "model-index:" in readme and "value: 0.8815" in readme
    assert [s for s, _ in stages][:3] == ["checking", "creating", "uploading"]
    assert stages[-1][0] == "committing" and ("uploading", 5) in stages
    assert hub.count("POST", "/commit/") == 1


def test_repush_unchanged_makes_no_empty_commit(hub, client, run_dir):
    first = push(plan_for(run_dir), client)
    second = push(plan_for(run_dir, allow_existing=True), client)
    assert second.nothing_changed and second.commit_id == first.commit_id
    assert len(second.unchanged) == 5
    assert hub.repo("alice/bert-mrpc").commit_count() == 2  # initial + ours


def test_repush_sends_only_changed_files(hub, client, run_dir):
    push(plan_for(run_dir), client)
    (run_dir / "final" / "vocab.txt").write_text("[PAD]\n[UNK]\nnew\n")
    result = push(plan_for(run_dir, allow_existing=True), client)
    assert result.uploaded == ["vocab.txt"]
    commit_body = [body for path, body, _ in hub.bodies if "/commit/" in path][-1]
    assert [json.loads(line)["value"]["path"] for line in commit_body.splitlines()[1:]] == ["vocab.txt"]


def test_include_exclude_patterns(hub, client, run_dir):
    plan = plan_for(run_dir, include=["*.json"], exclude=["tokenizer*"])
    result = push(plan, client)
    assert sorted(result.uploaded) == ["README.md", "config.json"]


def test_branch_is_created_and_main_untouched(hub, client, run_dir):
    push(plan_for(run_dir), client)
    (run_dir / "final" / "tokenizer_config.json").write_text("{}")
    result = push(plan_for(run_dir, branch="experiment", allow_existing=True), client)
    assert result.branch == "experiment" and result.uploaded == ["tokenizer_config.json"]
    assert hub.file("alice/bert-mrpc", "tokenizer_config.json", "experiment") == b"{}"
    assert hub.file("alice/bert-mrpc", "tokenizer_config.json") != b"{}"


def test_pull_request_on_someone_elses_repo(hub, client, run_dir):
    hub.add_repo("big-lab/shared-bert", {"README.md": b"# shared\n"})
    result = push(plan_for(run_dir, repo_id="big-lab/shared-bert", create_pr=True), client)
    assert result.pr_url == f"{hub.url}/big-lab/shared-bert/discussions/1"
    assert sorted(hub.repo("big-lab/shared-bert").head("main").files) == ["README.md"]


def test_private_repo(hub, client, run_dir):
    push(plan_for(run_dir, private=True), client)
    assert hub.repo("alice/bert-mrpc").private is True


def test_existing_repo_needs_consent(hub, client, run_dir):
    hub.add_repo("alice/bert-mrpc")
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir), client)
    assert caught.value.kind == "exists" and "Push into it" in caught.value.hint
    assert hub.count("POST", WRITES) == 0
    assert push(plan_for(run_dir, allow_existing=True), client).uploaded


def test_create_race_409_is_exists(hub, client, run_dir):
    hub.fail_next("create", 409, "You already created this model repo")
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir), client)
    assert caught.value.kind == "exists"


def test_read_only_token_caught_before_upload(hub, run_dir):
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir), HubClient(hub.url, READ_TOKEN))
    assert caught.value.kind == "read_only" and "write access" in caught.value.hint
    assert hub.count("POST", WRITES) == 0


def test_foreign_namespace_suggests_pr_or_own_namespace(hub, client, run_dir):
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir, repo_id="someone-else/bert"), client)
    error = caught.value
    assert error.kind == "forbidden"
    assert "pull request" in error.hint and "alice/bert" in error.hint and "wb-org" in error.hint
    assert hub.count("POST", WRITES) == 0


def test_server_403_mid_push_maps_to_forbidden(hub, client, run_dir):
    hub.fail_next("commit", 403, "You don't have the rights to write to alice")
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir), client)
    assert caught.value.kind == "forbidden" and caught.value.status == 403
    assert "pull request" in caught.value.hint


def test_no_token(hub, run_dir):
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir), HubClient(hub.url, None))
    assert caught.value.kind == "no_token" and "HF_TOKEN" in caught.value.hint
    assert hub.requests == []


def test_invalid_token_401(hub, run_dir):
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir), HubClient(hub.url, "hf_notARealToken"))
    assert caught.value.kind == "invalid_token" and "settings/tokens" in caught.value.hint
    assert "hf_notARealToken" not in str(caught.value)


def test_pull_request_to_missing_repo_is_not_found(hub, client, run_dir):
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir, repo_id="big-lab/missing", create_pr=True), client)
    assert caught.value.kind == "not_found"


def test_repo_vanishing_mid_push_is_not_found(hub, client, run_dir):
    hub.fail_next("preupload", 404, "Repository not found", error_code="RepoNotFound")
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir), client)
    assert caught.value.kind == "not_found" and "alice/bert-mrpc" in caught.value.message


def test_offline_mode_sends_nothing(hub, client, run_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir), client)
    assert caught.value.kind == "offline" and "HF_HUB_OFFLINE" in caught.value.hint
    assert hub.requests == []


def test_unreachable_endpoint_is_offline(hub, run_dir):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir), HubClient(f"http://127.0.0.1:{port}", WRITE_TOKEN))
    assert caught.value.kind == "offline" and f"127.0.0.1:{port}" in caught.value.message


def test_network_failure_mid_upload_then_retry(hub, client, run_dir):
    hub.drop_next("commit")
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir), client)
    assert caught.value.kind == "network" and "Push again" in caught.value.hint
    assert hub.repo("alice/bert-mrpc").commit_count() == 1  # nothing committed
    result = push(plan_for(run_dir, allow_existing=True), client)
    assert len(result.uploaded) == 5 and hub.repo("alice/bert-mrpc").commit_count() == 2


def test_cancel_between_files_commits_nothing(hub, client, run_dir):
    seen = []
    with pytest.raises(HubError) as caught:
        push(
            plan_for(run_dir), client, on_progress=seen.append, should_stop=lambda: any(p.files_done >= 2 for p in seen)
        )
    assert caught.value.kind == "cancelled"
    assert hub.count("POST", "/commit/") == 0
    assert hub.count("POST", "/preupload/") == 2


def test_invalid_card_blocks_before_any_request(hub, client, run_dir):
    plan = plan_for(run_dir)
    plan.card_text = "---\nlicense: not-a-license\n---\n# x\n"
    with pytest.raises(HubError) as caught:
        push(plan, client)
    assert caught.value.kind == "invalid_card" and "license" in caught.value.message
    assert hub.requests == []


def test_hub_side_card_rejection(hub, client, run_dir):
    hub.fail_next("validate", 400, "Invalid YAML")
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir), client)
    assert caught.value.kind == "invalid_card"
    assert hub.count("POST", "/commit/") == 0


def test_bad_repo_id_names_the_field(hub, client, run_dir):
    with pytest.raises(HubError) as caught:
        push(plan_for(run_dir, repo_id="no-namespace"), client)
    assert caught.value.kind == "invalid_input" and "'no-namespace'" in caught.value.message


def test_preflight_reports_file_states(hub, client, run_dir):
    push(plan_for(run_dir), client)
    (run_dir / "final" / "vocab.txt").write_text("changed\n")
    (run_dir / "final" / "extra.json").write_text("{}")
    check = preflight(plan_for(run_dir), client)
    states = {f.path_in_repo: f.status for f in check.files}
    assert states["vocab.txt"] == "changed" and states["extra.json"] == "new" and states["config.json"] == "unchanged"
    assert check.problem is not None and check.problem.kind == "exists"
    assert check.account.name == "alice" and check.account.role == "write"


def test_push_record_round_trip(tmp_path):
    from workbench.core.hub.push import PushResult, last_push, record_push

    assert last_push(tmp_path) is None
    record_push(tmp_path, PushResult("alice/a", "u", "c1", "cu", "main"))
    with open(tmp_path / "hub_pushes.jsonl", "a") as handle:
        handle.write("{not json\n")
    assert last_push(tmp_path)["repo_id"] == "alice/a" and last_push(tmp_path)["commit_id"] == "c1"


def test_content_ids_follow_file_changes(tmp_path):
    from workbench.core.hub.files import LocalFile

    path = tmp_path / "w.bin"
    path.write_bytes(b"one")
    first = LocalFile("w.bin", path, 3).content_id()
    assert first == LocalFile("w.bin", path, 3).content_id()  # cached
    path.write_bytes(b"two!")
    assert LocalFile("w.bin", path, 4).content_id() != first
