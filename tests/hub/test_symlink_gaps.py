"""Issue 19 item 12: push follows links to files (a Hugging Face cache snapshot is all links into ../../blobs) and
says which links it skips (broken, to a folder, pointing outside the folder); it never uploads content from
outside the folder."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.hub.conftest import write_model_folder
from tests.hub.fake_hub import WRITE_TOKEN
from workbench.cli import main
from workbench.core.hub.files import scan_folder

SECRET = b"outside the folder: never uploaded\n"


@pytest.fixture
def snapshot(tmp_path) -> Path:
    """models--wb-org--tiny/snapshots/REV/<name> -> ../../blobs/<sha256>, as huggingface_hub's cache lays it out,
    plus the links a user's folder may hold."""
    source = write_model_folder(tmp_path / "source")
    repo = tmp_path / "hub-cache" / "models--wb-org--tiny"
    blobs, snap = repo / "blobs", repo / "snapshots" / "0123abcd"
    blobs.mkdir(parents=True)
    (snap / "nested").mkdir(parents=True)
    for path in sorted(source.iterdir()):
        if path.suffix == ".tmp":
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        (blobs / digest).write_bytes(path.read_bytes())
        os.symlink(f"../../blobs/{digest}", snap / path.name)
    os.symlink(
        "../../../blobs/" + hashlib.sha256((source / "vocab.txt").read_bytes()).hexdigest(), snap / "nested" / "v.txt"
    )
    (tmp_path / "secret.txt").write_bytes(SECRET)
    os.symlink(tmp_path / "secret.txt", snap / "outside.txt")
    os.symlink("../../blobs/does-not-exist", snap / "broken.bin")
    os.symlink(source, snap / "linked-folder")
    os.symlink("config.json", snap / "alias.json")  # a link to a link inside the folder
    return snap


def test_scan_follows_links_into_the_cache_blobs_and_names_the_rest(snapshot):
    files, skipped = scan_folder(snapshot)
    names = [f.path_in_repo for f in files]
    assert names == [
        "alias.json",
        "config.json",
        "model.safetensors",
        "nested/v.txt",
        "tokenizer_config.json",
        "vocab.txt",
    ]
    for local in files:
        assert Path(local.source).read_bytes() == (snapshot / local.path_in_repo).read_bytes()
        assert local.size == (snapshot / local.path_in_repo).stat().st_size
    reasons = {s.path_in_repo: s.reason for s in skipped}
    assert set(reasons) == {"broken.bin", "linked-folder", "outside.txt"}
    assert reasons["broken.bin"] == "broken link (to ../../blobs/does-not-exist)"
    assert reasons["linked-folder"] == "a link to a folder (not followed)"
    assert reasons["outside.txt"].startswith(f"points outside {snapshot} (to ")


def test_a_link_out_of_an_ordinary_folder_is_not_followed(tmp_path):
    folder = write_model_folder(tmp_path / "model")
    (tmp_path / "elsewhere.bin").write_bytes(SECRET)
    os.symlink(tmp_path / "elsewhere.bin", folder / "weights.bin")
    files, skipped = scan_folder(folder, exclude=["*.tmp"])
    assert "weights.bin" not in [f.path_in_repo for f in files]
    assert [s.path_in_repo for s in skipped] == ["weights.bin"]
    files, skipped = scan_folder(folder, exclude=["*.bin"])
    assert skipped == [], "an excluded link is not reported"


def test_push_a_cache_snapshot(hub, monkeypatch, capsys, snapshot):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    before = {p: p.read_bytes() for p in snapshot.parent.parent.rglob("*") if p.is_file()}
    assert main(["push", str(snapshot), "--repo", "alice/from-cache"]) == 0
    captured = capsys.readouterr()
    stored = hub.repo("alice/from-cache").head("main").files
    assert sorted(set(stored) - {".gitattributes"}) == [
        "README.md",
        "alias.json",
        "config.json",
        "model.safetensors",
        "nested/v.txt",
        "tokenizer_config.json",
        "vocab.txt",
    ]
    assert stored["model.safetensors"] == (snapshot / "model.safetensors").read_bytes()
    assert all(SECRET not in content for content in stored.values())
    assert "Pushed 7 file(s)" in captured.out
    for name in ("broken.bin", "linked-folder", "outside.txt"):
        assert f"not uploaded: {name}: " in captured.err
    assert before == {p: p.read_bytes() for p in snapshot.parent.parent.rglob("*") if p.is_file()}


def test_push_json_and_dry_run_list_the_skipped_links(hub, monkeypatch, capsys, snapshot):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    assert main(["push", str(snapshot), "--repo", "alice/dry-cache", "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert len(dry["files"]) == 7 and [s.split(":")[0] for s in dry["skipped"]] == [
        "broken.bin",
        "linked-folder",
        "outside.txt",
    ]
    assert main(["push", str(snapshot), "--repo", "alice/json-cache", "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert len(result["uploaded"]) == 7 and len(result["skipped"]) == 3 and captured.err == ""
