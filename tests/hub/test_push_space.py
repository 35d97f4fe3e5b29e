"""A run's Gradio demo pushed as a Space (issue 21): CLI, dry run, and the push dialog's "Upload as" choice."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.hub.conftest import RUN_ID, write_run_folder
from tests.hub.fake_hub import WRITE_TOKEN
from workbench.cli import main
from workbench.core.settings import load_settings

SPACE_FILES = {"app.py", "requirements.txt", "README.md", "model/config.json"}


def tiny_run(runs: Path) -> Path:
    """The conftest run folder, with a final/ model small enough to load (a 2-layer, 32-wide BERT)."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    run_dir = write_run_folder(runs)
    final = run_dir / "final"
    shutil.rmtree(final)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "movie"]
    BertTokenizerFast(vocab={word: index for index, word in enumerate(vocab)}).save_pretrained(final)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        id2label={0: "neg", 1: "pos"},
        label2id={"neg": 0, "pos": 1},
    )
    BertForSequenceClassification(config).save_pretrained(final)
    return run_dir


@pytest.fixture
def space_run(hub) -> Path:
    return tiny_run(load_settings().runs_path)


def test_space_readme_keeps_header_and_adds_what_a_space_needs():
    from workbench.core.hub.space import space_readme, split_front_matter

    lines, body = split_front_matter(space_readme("my: demo", "---\ntitle: Mine\nsdk: gradio\n---\n\nHello\n"))
    assert lines[:2] == ["title: Mine", "sdk: gradio"] and "app_file: app.py" in lines
    assert body.strip() == "Hello"
    generated, _ = split_front_matter(space_readme("my: demo"))
    assert generated[:3] == ['title: "my: demo"', "sdk: gradio", "app_file: app.py"]


def test_cli_pushes_run_demo_as_space(hub, space_run, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    assert main(["push", RUN_ID, "--space", "--repo", "alice/mrpc-demo", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] and result["created_repo"] and result["repo_type"] == "space"
    assert result["repo_url"] == f"{hub.url}/spaces/alice/mrpc-demo"
    space = hub.repo("alice/mrpc-demo", "space")
    assert space.sdk == "gradio" and ("model", "alice/mrpc-demo") not in hub.repos
    files = space.head("main").files
    assert SPACE_FILES <= set(files)
    readme = files["README.md"].decode()
    assert readme.startswith("---\n") and "\nsdk: gradio\n" in readme and "\napp_file: app.py\n" in readme
    assert b"gradio" in files["requirements.txt"] and b"import gradio as gr" in files["app.py"]
    assert hub.count("POST", r"^/api/spaces/alice/mrpc-demo/preupload/main$") == len(files) - 1  # not .gitattributes
    assert hub.count("POST", r"^/api/spaces/alice/mrpc-demo/commit/main$") == 1
    # the record of a Space push does not become the default repository of a model push
    assert main(["push", RUN_ID, "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["repo_id"] == "alice/bert-base-uncased-mrpc"
    # ... but the next Space push goes to the same Space, and nothing changed
    assert main(["push", RUN_ID, "--space", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["repo_id"] == "alice/mrpc-demo" and again["nothing_changed"]
    assert space.commit_count() == 2


def test_cli_space_dry_run_lists_files_and_sends_nothing(hub, space_run, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    exported = []
    from workbench.core.hub import space as space_module

    real = space_module.space_from_run

    def recording(*args, **kwargs):
        exported.append(real(*args, **kwargs))
        return exported[-1]

    monkeypatch.setattr(space_module, "space_from_run", recording)
    assert main(["push", str(space_run), "--space", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "to alice/bert-base-uncased-mrpc-demo as a Space" in out
    listed = {line.split()[-1] for line in out.splitlines() if line.startswith("  new")}
    assert SPACE_FILES <= listed
    assert not hub.repos and hub.count("POST", r"/commit/") == 0
    assert exported and not exported[0].exists()  # the temporary export is removed
    # an exported folder is pushed as it is (no model loaded); its README gets the Space header
    folder = exported[0].parent / "already-exported"
    folder.mkdir()
    (folder / "app.py").write_text("import gradio as gr\n")
    (folder / "requirements.txt").write_text("gradio\n")
    assert main(["push", str(folder), "--space", "--dry-run", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["repo_id"] == "alice/already-exported-demo"
    assert [f["path"] for f in record["files"]] == ["README.md", "app.py", "requirements.txt"]
    assert "sdk: gradio" in record["card"]
    shutil.rmtree(folder)


def test_cli_space_needs_a_token_before_loading_the_model(hub, space_run, capsys):
    assert main(["push", RUN_ID, "--space", "--repo", "alice/x", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["kind"] == "no_token"
    assert not hub.repos


async def test_dialog_uploads_demo_space(display_hub, hub, space_run, monkeypatch):
    from textual.widgets import Input, Select

    from tests.hub.dialog_helpers import SIZE, open_dialog, settle
    from workbench.ui.app import make_app
    from workbench.ui.hub.push_dialog import PushDialog

    monkeypatch.setattr(PushDialog, "RECHECK_DELAY_S", 0.05)
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, space_run)
        assert dialog.query_one("#upload-as", Select).value == "model" and not dialog.space
        assert dialog.query_one("#repo-input", Input).value == "alice/bert-base-uncased-mrpc"
        dialog.query_one("#upload-as", Select).value = "space"
        dialog = await settle(pilot)
        assert dialog.space and dialog.problem is None
        assert dialog.query_one("#repo-input", Input).value == "alice/bert-base-uncased-mrpc-demo"
        assert dialog.query_one("#card-box").has_class("hidden")
        assert SPACE_FILES <= {f.path_in_repo for f in dialog.preflight.files}
        await pilot.press("ctrl+s")
        dialog = await settle(pilot)
        assert dialog.state == "done" and dialog.result.created_repo and dialog.result.repo_type == "space"
        assert dialog.result.repo_url == "http://hub.test/spaces/alice/bert-base-uncased-mrpc-demo"
        files = hub.repo("alice/bert-base-uncased-mrpc-demo", "space").head("main").files
        assert SPACE_FILES <= set(files) and b"\nsdk: gradio\n" in files["README.md"]
        assert not hub.repos.get(("model", "alice/bert-base-uncased-mrpc"))
        folder = dialog._space_folder
        # back to the model: the model's repository name and card come back
        dialog.query_one("#upload-as", Select).value = "model"
        dialog = await settle(pilot)
        assert dialog.query_one("#repo-input", Input).value == "alice/bert-base-uncased-mrpc"
        assert not dialog.query_one("#card-box").has_class("hidden")
        assert [f.path_in_repo for f in dialog.preflight.files][0] == "README.md" and dialog.problem is None
        await pilot.press("escape")
        await pilot.pause()
    assert folder is not None and not folder.exists()  # the temporary export is removed with the dialog
