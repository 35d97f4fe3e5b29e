"""Issue 19 item 11: a network failure during an upload (after the repository was created) is one message, never a
traceback, with or without --json; and `train --init DIR` on a folder is named."""

from __future__ import annotations

import json

import pytest

from tests.hub import fake_hub
from tests.hub.fake_hub import WRITE_TOKEN
from workbench.cli import main


@pytest.fixture
def lfs_drops(hub, monkeypatch):
    """Large files go through LFS (the fake Hub answers "lfs" above 1 KB here); the LFS batch answers with an
    upload URL, and the upload itself loses the connection, as a real network cut does mid-transfer.

    huggingface_hub wraps that failure in RuntimeError("Error while uploading ... to the Hub.") from its upload
    thread, which is what reached the user as a traceback."""
    import httpx2
    from huggingface_hub import _commit_api

    monkeypatch.setattr(fake_hub, "REGULAR_LIMIT", 1024)

    def batch(upload_infos, **kwargs):
        actions = [
            {"oid": info.sha256.hex(), "size": info.size, "actions": {"upload": {"href": f"{hub.url}/lfs-upload"}}}
            for info in upload_infos
        ]
        return actions, [], None

    def upload(**kwargs):
        raise httpx2.ReadError(f"[Errno 104] Connection reset by peer (token {WRITE_TOKEN})")

    monkeypatch.setattr(_commit_api, "is_xet_available", lambda: False)
    monkeypatch.setattr(_commit_api, "post_lfs_batch_info", batch)
    monkeypatch.setattr(_commit_api, "lfs_upload", upload)
    return hub


@pytest.fixture
def big_model(model_folder):
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"weight": np.zeros(1024, dtype="float32")}, str(model_folder / "model.safetensors"))  # whole: 4 KiB
    return model_folder


def test_lfs_network_failure_after_create_is_one_line(lfs_drops, monkeypatch, capsys, big_model):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    assert main(["push", str(big_model), "--repo", "alice/cut"]) == 2
    captured = capsys.readouterr()
    assert lfs_drops.repo("alice/cut") is not None, "the repository was created before the cut"
    message = [line for line in captured.err.splitlines() if line.startswith("workbench: ")]
    assert len(message) == 1, captured.err
    assert "Connection reset by peer" in message[0] and "model.safetensors" in message[0]
    assert "Traceback" not in captured.err + captured.out
    assert WRITE_TOKEN not in captured.err + captured.out
    assert captured.err.rstrip().splitlines()[-1].startswith("Nothing is committed until the final step succeeds")


def test_lfs_network_failure_after_create_json(lfs_drops, monkeypatch, capsys, big_model):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    assert main(["push", str(big_model), "--repo", "alice/cut2", "--json"]) == 2
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["ok"] is False and result["error"]["kind"] == "network"
    assert "Connection reset by peer" in result["error"]["message"]
    assert "\n" not in result["error"]["message"]
    assert "Traceback" not in captured.err and WRITE_TOKEN not in captured.out
    assert lfs_drops.repo("alice/cut2").commit_count() == 1, "nothing committed beyond the creation"


def test_xet_upload_failure_after_create_is_one_line(hub, monkeypatch, capsys, big_model):
    """With hf_xet installed the large file goes to Xet storage; the fake Hub has no Xet token route, so hf_xet
    fails after the repository was created: one message, not a traceback."""
    from huggingface_hub import _commit_api

    if not _commit_api.is_xet_available():
        pytest.skip("hf_xet is not installed")
    monkeypatch.setattr(fake_hub, "REGULAR_LIMIT", 1024)
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    assert main(["push", str(big_model), "--repo", "alice/xet", "--json"]) == 2
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert error["kind"] in ("network", "server") and "upload the files" in error["message"]
    assert hub.repo("alice/xet") is not None and "Traceback" not in captured.err


def test_bare_socket_error_during_commit(hub, monkeypatch, capsys, model_folder):
    from huggingface_hub import HfApi

    def create_commit(self, *args, **kwargs):
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    monkeypatch.setattr(HfApi, "create_commit", create_commit)
    assert main(["push", str(model_folder), "--repo", "alice/cut3", "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["kind"] == "network" and "create the commit" in error["message"]


def test_train_init_on_a_folder(isolated_dirs, tmp_path, capsys):
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    for argv in (["train", "--init", str(folder), "--force"], ["train", "--init", str(folder)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"workbench: {folder} is a folder, not a spec file"), err
        assert len(err.strip().splitlines()) == 2 and "Traceback" not in err
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]


def test_train_init_into_a_missing_folder(isolated_dirs, tmp_path, capsys):
    target = tmp_path / "no-such-folder" / "spec.toml"
    assert main(["train", "--init", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"workbench: Cannot write the spec {target}: No such file or directory"), err
