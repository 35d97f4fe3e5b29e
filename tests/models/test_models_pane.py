"""Pilot tests of the Models pane: opening checkpoints, bad input, labels, loading, cancel, code, create, save."""

from __future__ import annotations

import shutil
import threading

from textual.widgets import Checkbox, Input, Static, TabbedContent

from workbench.core.embedded import EMBEDDED_MODEL_NAME
from workbench.ui.app import make_app
from workbench.ui.messages import ActiveModelChanged
from workbench.ui.models.catalog import CatalogList, FolderSuggester
from workbench.ui.models.dialogs import CreateModelScreen, SaveModelScreen, ShowCodeScreen

SIZE = (110, 34)


async def _settle(pilot, rounds: int = 6) -> None:
    from textual.worker import WorkerCancelled

    for _ in range(rounds):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass  # an exclusive worker replaced by a newer one
        await pilot.pause()


def _text(widget: Static) -> str:
    """The plain text a Static shows (Rich tables and styled Text included)."""
    import io

    from rich.console import Console

    console = Console(width=300, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


def _messages(app) -> list[str]:
    return [notification.message for notification in app._notifications]


async def test_embedded_default_is_selected_and_can_be_made_active():
    app = make_app(probe_hub_on_start=False)
    seen: list = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        pane = app.screen.query_one("#models-pane")
        await pilot.pause()
        assert pane.info.name == EMBEDDED_MODEL_NAME
        assert "BertModel" in _text(pane.query_one("#model-summary"))
        pane.query_one("#model-path", Input).focus()
        await pilot.press("ctrl+t")
        await pilot.pause()
        changes = [message for message in seen if isinstance(message, ActiveModelChanged)]
        assert changes and changes[-1].name == EMBEDDED_MODEL_NAME and changes[-1].path == ""
        assert app.active_model == EMBEDDED_MODEL_NAME and app.active_model_path == ""
        labels = {command.label for command in app.palette_commands()}
        assert {
            "model: load",
            "model: run",
            "model: show code",
            "model: create from config",
            "model: use as active model",
            "model: labels from dataset",
        } <= labels


async def test_open_folder_by_typing_then_load_makes_it_active(tiny_models, monkeypatch):
    monkeypatch.chdir(tiny_models["gpt2"].parent)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one("#models-pane")
        path_input = pane.query_one("#model-path", Input)
        path_input.focus()
        await pilot.press(*"./bert-sen")
        await pilot.pause(0.2)
        assert path_input._suggestion == "./bert-sentiment/"
        await pilot.press("right", "enter")
        await pilot.pause()
        assert pane.info.name == "bert-sentiment"
        assert [entry.name for entry in pane.query_one(CatalogList).entries][:2] == [
            EMBEDDED_MODEL_NAME,
            "bert-sentiment",
        ]
        pane.query_one("#model-tabs", TabbedContent).active = "model-heads-tab"
        await _settle(pilot)
        assert pane.head_key == "sequence-classification"  # the head it was saved with
        assert pane.query_one("#model-labels", Input).value == "0=negative, 1=positive"
        await pilot.press("ctrl+l")
        await _settle(pilot)
        assert pane.loaded is not None and pane.loaded.report.status == "all from checkpoint"
        assert app.active_model == "bert-sentiment"
        assert app.active_model_path == str(tiny_models["bert-sentiment"].resolve()) or app.active_model_path.endswith(
            "bert-sentiment"
        )


async def test_bad_paths_are_explained_and_keep_the_current_model(broken_folders):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one("#models-pane")
        cases = [
            (str(broken_folders["no-config"]) + "/missing-sub", "does not exist"),
            (str(broken_folders["no-config"]), "has no config.json"),
            (str(broken_folders["corrupt-config"]), "line 3, column"),
        ]
        for path, expected in cases:
            pane.open_model(path)
            await _settle(pilot)
            assert expected in _text(pane.query_one("#model-error")), path
            assert pane.info.name == EMBEDDED_MODEL_NAME  # nothing lost
        pane.open_model("someone/some-model")
        await _settle(pilot)
        assert "not reachable" in _text(pane.query_one("#model-error"))
        assert any("not reachable" in message for message in _messages(app))


async def test_unusable_checkpoints_say_why_when_loading(broken_folders):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one("#models-pane")
        pane.query_one("#model-tabs", TabbedContent).active = "model-heads-tab"
        for folder, expected in [
            ("no-weights", "has no weights"),
            ("unknown-arch", "Unknown architecture 'frobnicator'"),
            ("remote-code", "needs trust_remote_code"),
        ]:
            pane.open_model(str(broken_folders[folder]))
            await _settle(pilot)
            pane.action_load()
            await _settle(pilot)
            assert expected in _text(pane.query_one("#load-status")), folder
            assert pane.loaded is None
        assert pane.query_one("#opt-trust", Checkbox).display  # the remote-code checkpoint offers the opt-in
        assert "trust_remote_code" in _text(pane.query_one("#model-warnings"))


async def test_a_model_too_large_for_free_memory_is_refused(tiny_models, monkeypatch):
    import psutil

    class LittleMemory:
        available = 10 * 2**20

    monkeypatch.setattr(psutil, "virtual_memory", lambda: LittleMemory())
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one("#models-pane")
        pane.open_model(str(tiny_models["gpt2"]))
        pane.action_load()
        await _settle(pilot)
        assert "needs about 0.1 GiB to load, but only 0.0 GiB is free" in _text(pane.query_one("#load-status"))
        assert pane.loaded is None


async def test_pickle_needs_an_explicit_per_model_opt_in(tiny_models, tmp_path):
    import torch
    from safetensors.torch import load_file

    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_models["bert-sentiment"], pickled)
    torch.save(load_file(str(pickled / "model.safetensors")), pickled / "pytorch_model.bin")
    (pickled / "model.safetensors").unlink()
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one("#models-pane")
        pane.open_model(str(pickled))
        await pilot.pause()
        assert "pickle" in _text(pane.query_one("#model-warnings"))
        pane.query_one("#model-tabs", TabbedContent).active = "model-heads-tab"
        await _settle(pilot)
        pane.action_load()
        await _settle(pilot)
        assert "pickle weights" in _text(pane.query_one("#load-status")) and pane.loaded is None
        allow = pane.query_one("#opt-pickle", Checkbox)
        assert allow.display and not allow.value
        allow.value = True
        await _settle(pilot)
        pane.action_load()
        await _settle(pilot)
        assert pane.loaded is not None
        # The opt-in belongs to that model only.
        pane.open_model(str(tiny_models["bert-qa"]))
        await pilot.pause()
        assert pane.query_one("#opt-pickle", Checkbox).value is False


async def test_label_mismatch_offers_a_fresh_head(tiny_models):
    app = make_app(probe_hub_on_start=False)
    app.active_dataset = None
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one("#models-pane")
        pane.open_model(str(tiny_models["bert-sentiment"]))
        pane.query_one("#model-tabs", TabbedContent).active = "model-heads-tab"
        await _settle(pilot)
        pane.action_labels_from_dataset()  # no dataset open yet
        await pilot.pause()
        assert any("no label names" in message for message in _messages(app))
        app.active_dataset = {"path": "mrpc", "label_names": ["not_equivalent", "equivalent", "unsure"]}
        pane.action_labels_from_dataset()
        await _settle(pilot)
        assert pane.query_one("#model-labels", Input).value == "0=not_equivalent, 1=equivalent, 2=unsure"
        assert "[2, 32]→[3, 32]" in _text(pane.query_one("#head-detail"))
        pane.action_load()
        await _settle(pilot)
        assert pane.loaded is None
        assert "has 2 labels, you asked for 3" in _text(pane.query_one("#load-status"))
        fresh = pane.query_one("#opt-fresh-head", Checkbox)
        assert app.focused is fresh
        fresh.value = True
        pane.action_load()
        await _settle(pilot)
        assert pane.loaded.id2label == {0: "not_equivalent", 1: "equivalent", 2: "unsure"}
        pane.query_one("#model-labels", Input).value = "a,,b"
        await pilot.pause()
        assert not pane.apply_labels("a,,b")
        assert "Label 2 is empty" in _text(pane.query_one("#head-detail"))


async def test_cancel_a_load(tiny_models, monkeypatch):
    from workbench.core.models import loading

    started, release = threading.Event(), threading.Event()
    real_analyse = loading.analyse_head

    def slow_analyse(*args, **kwargs):
        started.set()
        release.wait(10)
        return real_analyse(*args, **kwargs)

    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one("#models-pane")
        pane.open_model(str(tiny_models["gpt2"]))
        await pilot.pause()
        monkeypatch.setattr(loading, "analyse_head", slow_analyse)
        pane.action_load()
        for _ in range(200):
            if started.is_set():
                break
            await pilot.pause(0.05)
        assert started.is_set()
        assert app.screen.query_one("#model-cancel").disabled is False
        pane.action_cancel_load()
        release.set()
        await _settle(pilot)
        assert "cancelled" in _text(pane.query_one("#load-status"))
        assert pane.loaded is None and pane.query_one("#model-cancel").disabled


async def test_playground_input_errors_and_show_code(tiny_models):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one("#models-pane")
        pane.open_model(str(tiny_models["bert-qa"]))
        pane.select_head("question-answering")
        pane.query_one("#model-tabs", TabbedContent).active = "model-playground-tab"
        await _settle(pilot)
        playground = pane.query_one("#playground")
        playground.set_text("Who wrote it?", "")
        pane.action_run()
        await _settle(pilot)
        assert "needs a context" in _text(playground.query_one("#play-status"))
        playground.set_text("Who wrote it?", "Ann wrote it in May.")
        pane.query_one("#play-text", Input).focus()
        await pilot.press("ctrl+r")
        await _settle(pilot)
        answer = pane.last_prediction[0].result["answer"]
        assert answer and answer in "Ann wrote it in May."
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, ShowCodeScreen)
        assert "AutoModelForQuestionAnswering.from_pretrained" in app.screen.code
        assert "'Ann wrote it in May.'" in app.screen.code
        await pilot.press("escape")
        await pilot.pause()
        pane.select_head("causal-lm")
        await pilot.pause()
        pane.query_one("#play-temperature", Input).value = "hot"
        pane.action_run()
        await pilot.pause()
        assert "temperature: 'hot' is not a number" in _text(playground.query_one("#play-status"))


async def test_create_from_config_then_save_the_loaded_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one("#models-pane")
        pane.query_one("#model-path", Input).focus()
        await pilot.press("escape", "ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, CreateModelScreen)
        app.screen.query_one("#create-family").value = "gpt2"
        await pilot.pause()
        app.screen.query_one("#create-overrides", Input).value = "n_layer=1, n_embd=32, n_head=2"
        app.screen.query_one("#create-folder", Input).value = "new-gpt2"
        await pilot.click("#create-ok")
        await _settle(pilot)
        assert (tmp_path / "new-gpt2" / "model.safetensors").exists()
        assert pane.info.name == "new-gpt2" and pane.info.shape["layers"] == 1
        pane.select_head("causal-lm")
        pane.action_load()
        await _settle(pilot)
        assert pane.loaded is not None
        pane.action_save_model()
        await pilot.pause()
        assert isinstance(app.screen, SaveModelScreen)
        app.screen.query_one("#save-folder", Input).value = "copy"
        await pilot.press("enter")
        await _settle(pilot)
        assert (tmp_path / "copy" / "config.json").exists() and (tmp_path / "copy" / "tokenizer.json").exists()
        pane.action_save_model()
        await pilot.pause()
        app.screen.query_one("#save-folder", Input).value = "copy"
        await pilot.press("enter")
        await _settle(pilot)
        assert any("already holds a model" in message for message in _messages(app))


async def test_run_folders_appear_in_the_catalog_and_open_model_routes_here(tiny_models, monkeypatch, tmp_path):
    from workbench.ui.messages import OpenModelRequested

    runs = tmp_path / "runs"
    shutil.copytree(tiny_models["bert-sentiment"], runs / "run-001" / "final")
    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(runs))
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        pane = app.screen.query_one("#models-pane")
        names = [entry.name for entry in pane.query_one(CatalogList).entries]
        assert "run run-001" in names
        await pilot.press("3")
        app.post_message(OpenModelRequested(str(runs / "run-001" / "final")))
        await _settle(pilot)
        assert app.screen.query_one("#panes", TabbedContent).active == "models"
        assert pane.info.name == "run run-001"


async def test_folder_suggester_completes_folders_only(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkfile.txt").write_text("")
    suggester = FolderSuggester()
    assert await suggester.get_suggestion(str(tmp_path / "check")) == f"{tmp_path}/checkpoints/"
    assert await suggester.get_suggestion("bert-base") is None  # hub ids are not completed


def test_answers_render_for_embeddings_and_choices():
    from workbench.core.models.inference import Prediction
    from workbench.ui.models.playground import render_answer

    def plain(renderable) -> str:
        import io

        from rich.console import Console

        console = Console(width=120, file=io.StringIO(), record=True)
        console.print(renderable)
        return console.export_text()

    base = plain(
        render_answer("base", {"tokens": 4, "hidden_size": 384, "mean_pooled": [0.5, -0.25], "norm": 1.5}, "hi")
    )
    assert "4 tokens × 384 hidden" in base and "0.500, -0.250" in base
    choices = plain(
        render_answer(
            "multiple-choice",
            {"choices": [{"choice": "mat", "score": 0.75}, {"choice": "moon", "score": 0.25}], "best": 0},
            "x",
        )
    )
    assert "mat" in choices and "75.00%" in choices and "█" * 22 in choices
    assert Prediction("base").as_dict()["head"] == "base"


async def test_browse_picks_a_checkpoint_folder(tiny_models, monkeypatch):
    from textual.widgets import DirectoryTree

    from workbench.ui.models.dialogs import FolderPickerScreen

    monkeypatch.chdir(tiny_models["gpt2"].parent)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one("#models-pane")
        pane.query_one(CatalogList).focus()
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert isinstance(app.screen, FolderPickerScreen)
        tree = app.screen.query_one(DirectoryTree)
        for _ in range(100):  # the tree's loader worker never finishes, so poll instead of waiting for workers
            if tree.root.children:
                break
            await pilot.pause(0.05)
        nodes = {node.data.path.name: node for node in tree.root.children}
        assert "t5" in nodes and not any(name.endswith(".json") for name in nodes)
        tree.select_node(nodes["t5"])
        for _ in range(100):
            if not isinstance(app.screen, FolderPickerScreen):
                break
            await pilot.pause(0.05)
        await _settle(pilot)
        assert not isinstance(app.screen, FolderPickerScreen)
        assert pane.info.name == "t5"


async def test_the_result_box_is_titled_for_the_head():
    """Issue 22 item 12: the classification result box was titled "Answer"."""
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one("#models-pane")
        await pilot.pause()
        titles = {}
        for head in ("sequence-classification", "question-answering", "masked-lm", "token-classification"):
            pane.select_head(head)
            await pilot.pause()
            titles[head] = pane.query_one("#play-answer").border_title
        assert titles == {
            "sequence-classification": "Classes",
            "question-answering": "Answer",
            "masked-lm": "Predictions",
            "token-classification": "Tags",
        }


async def test_the_playground_streams_generated_text_as_it_comes(tiny_models):
    from workbench.ui.models.playground import Playground

    seen: list = []
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        pane = app.screen.query_one("#models-pane")
        pane.open_model(str(tiny_models["gpt2"]))
        pane.select_head("causal-lm")
        pane.query_one("#model-tabs", TabbedContent).active = "model-playground-tab"
        await _settle(pilot)
        playground = pane.query_one("#playground")
        playground.set_text("once upon a time", "")
        pane.query_one("#play-max-new", Input).value = "12"
        pane.query_one("#play-temperature", Input).value = "0"
        pane.action_run()
        await _settle(pilot)
        for _ in range(100):
            if pane.last_prediction is not None:
                break
            await pilot.pause(0.1)
        streamed = [message for message in seen if isinstance(message, Playground.Streamed)]
        finished = [message for message in seen if isinstance(message, Playground.Predicted)]
        assert streamed and finished and seen.index(streamed[0]) < seen.index(finished[-1])
        generated = pane.last_prediction[0].result["generated"]
        assert streamed[-1].text.strip() == generated.strip()
        assert generated in _text(playground.query_one("#play-answer"))
