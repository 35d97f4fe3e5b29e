"""Contract tests: what huggingface_hub 2.x really sends and reads, pinned against the fake Hub.

If a client upgrade changes one of these shapes, these fail first (and the fake server, which
the push tests rely on, needs the same change).
"""

from __future__ import annotations

import base64
import json

import pytest
from huggingface_hub import CommitOperationAdd, HfApi, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import RepoFile

from tests.hub.fake_hub import READ_TOKEN, WRITE_TOKEN, git_blob_oid


@pytest.fixture
def api(hub):
    return HfApi(endpoint=hub.url, token=WRITE_TOKEN)


def _bodies(hub, fragment):
    return [(body, headers) for path, body, headers in hub.bodies if fragment in path]


def test_whoami_is_a_bearer_get_and_reads_role(hub, api):
    info = api.whoami()
    assert hub.requests[-1] == ("GET", "/api/whoami-v2")
    assert _bodies(hub, "whoami")[-1][1]["authorization"] == f"Bearer {WRITE_TOKEN}"
    assert info["name"] == "alice"
    assert info["auth"]["accessToken"]["role"] == "write"


def test_create_repo_payload_and_409_url(hub, api):
    url = api.create_repo("wb-org/tiny", private=True)
    payload = json.loads(_bodies(hub, "/api/repos/create")[-1][0])
    assert payload["name"] == "tiny" and payload["organization"] == "wb-org"
    assert payload.get("visibility") == "private" or payload.get("private") is True
    assert payload.get("type", "model") == "model"  # models may omit it
    assert url.repo_id == "wb-org/tiny"
    # exist_ok reads "url" from the 409 body
    again = api.create_repo("wb-org/tiny", exist_ok=True)
    assert str(again) == f"{hub.url}/wb-org/tiny"
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_repo("wb-org/tiny")
    assert caught.value.response.status_code == 409


def test_commit_is_preupload_then_ndjson_with_base64_files(hub, api):
    api.create_repo("alice/c1")
    content = b'{"hidden_size": 32}'
    info = api.create_commit(
        "alice/c1",
        [CommitOperationAdd("config.json", content)],
        commit_message="add config",
        commit_description="details",
    )
    preupload = json.loads(_bodies(hub, "/preupload/main")[-1][0])
    assert preupload["files"][0]["path"] == "config.json"
    assert preupload["files"][0]["size"] == len(content)
    assert base64.b64decode(preupload["files"][0]["sample"]) == content[:512]
    body, headers = _bodies(hub, "/commit/main")[-1]
    assert headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in body.splitlines()]
    assert lines[0] == {"key": "header", "value": {"summary": "add config", "description": "details"}}
    assert lines[1] == {
        "key": "file",
        "value": {"content": base64.b64encode(content).decode(), "path": "config.json", "encoding": "base64"},
    }
    assert info.oid == hub.repo("alice/c1").head("main").oid
    assert info.commit_url.endswith(f"/alice/c1/commit/{info.oid}")
    # no LFS batch or Xet token endpoints were needed for regular files
    assert not any("lfs" in path or "xet" in path for _, path in hub.requests)


def test_unchanged_files_make_no_commit(hub, api):
    api.create_repo("alice/c2")
    first = api.create_commit("alice/c2", [CommitOperationAdd("a.txt", b"a")], commit_message="one")
    # preupload reports the remote git blob id, the client drops the no-op
    second = api.create_commit("alice/c2", [CommitOperationAdd("a.txt", b"a")], commit_message="two")
    assert second.oid == first.oid
    assert hub.repo("alice/c2").commit_count() == 2  # initial + one
    assert hub.count("POST", r"/commit/") == 1


def test_pull_request_query_and_url(hub, api):
    hub.add_repo("big-lab/shared", {"README.md": b"hello"})
    info = api.create_commit("big-lab/shared", [CommitOperationAdd("x.txt", b"x")], commit_message="pr", create_pr=True)
    assert info.pr_url == f"{hub.url}/big-lab/shared/discussions/1"
    assert "x.txt" not in hub.file("big-lab/shared", "README.md").decode()
    assert "x.txt" not in hub.repo("big-lab/shared").head("main").files


def test_error_codes_become_typed_errors(hub, api):
    with pytest.raises(RepositoryNotFoundError):
        api.repo_info("alice/missing")
    hub.add_repo("alice/r")
    with pytest.raises(RevisionNotFoundError):
        api.repo_info("alice/r", revision="nope")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download("alice/r", "nope.txt", endpoint=hub.url, token=WRITE_TOKEN)
    # the connection is still usable after error replies (bodies were read)
    assert api.repo_info("alice/r").id == "alice/r"


def test_read_token_gets_403_and_bad_token_401(hub):
    with pytest.raises(HfHubHTTPError) as caught:
        HfApi(endpoint=hub.url, token=READ_TOKEN).create_repo("alice/nope")
    assert caught.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as caught:
        HfApi(endpoint=hub.url, token="hf_invalid").whoami()
    assert caught.value.response.status_code == 401


def test_validate_yaml_errors_become_value_error(hub, api):
    api.create_repo("alice/v")
    with pytest.raises(ValueError, match="Invalid metadata in README.md"):
        api.create_commit(
            "alice/v", [CommitOperationAdd("README.md", b"---\nlicense: nope\n---\n")], commit_message="x"
        )
    payload = json.loads(_bodies(hub, "/api/validate-yaml")[-1][0])
    assert payload == {"content": "---\nlicense: nope\n---\n", "repoType": "model"}
    assert hub.count("POST", r"/commit/") == 0


def test_tree_and_resolve_round_trip(hub, api, tmp_path):
    api.create_repo("alice/t")
    api.create_commit(
        "alice/t",
        [CommitOperationAdd("sub/w.bin", b"\x00\x01"), CommitOperationAdd("c.json", b"{}")],
        commit_message="files",
    )
    entries = {e.path: e for e in api.list_repo_tree("alice/t", recursive=True) if isinstance(e, RepoFile)}
    assert entries["sub/w.bin"].blob_id == git_blob_oid(b"\x00\x01") and entries["sub/w.bin"].size == 2
    path = hf_hub_download("alice/t", "sub/w.bin", endpoint=hub.url, token=WRITE_TOKEN, cache_dir=tmp_path)
    assert open(path, "rb").read() == b"\x00\x01"


def test_branch_creation(hub, api):
    api.create_repo("alice/b")
    api.create_branch("alice/b", branch="dev")
    assert ("POST", "/api/models/alice/b/branch/dev") in hub.requests
    api.create_commit("alice/b", [CommitOperationAdd("d.txt", b"d")], commit_message="dev", revision="dev")
    assert "d.txt" in hub.repo("alice/b").head("dev").files
    assert "d.txt" not in hub.repo("alice/b").head("main").files
