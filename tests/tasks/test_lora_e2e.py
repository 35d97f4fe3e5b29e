"""A tiny sequence-classification run with LoRA through the real child: only the adapter trains, final/
holds the adapter (and final/merged/ the merged model), and the adapter folder opens and predicts."""

from __future__ import annotations

import json
import re

import pytest

from tests.training.conftest import one_thread_per_run, tiny_data, tiny_model_dir, tiny_spec  # noqa: F401
from tests.training.helpers import dump_log, run_child
from workbench.core.runs import protocol

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lora_run(tiny_model_dir, tiny_data, tmp_path_factory):  # noqa: F811
    from workbench.training.spec import default_spec, validate_spec

    spec = default_spec(model=str(tiny_model_dir), data=str(tiny_data["train"]))
    spec["data"]["validation_file"] = str(tiny_data["dev"])
    spec["model"]["lora"] = {"r": 4, "save_merged": True}
    spec["training"].update(
        learning_rate=5e-3, max_steps=12, logging_steps=4, per_device_train_batch_size=16, save_steps=0
    )
    spec["monitor"]["system_sample_interval_s"] = 0
    assert validate_spec(spec) == []
    run_dir = tmp_path_factory.mktemp("lora") / "run"
    result = run_child(spec, run_dir, env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:] + dump_log(run_dir)
    return run_dir


def test_only_the_adapter_trains_and_final_holds_it(lora_run):
    events = protocol.read_events(lora_run / "events.jsonl")
    logs = [event.message for event in events if isinstance(event, protocol.LogLine)]
    counts = next(line for line in logs if line.startswith("LoRA:"))
    trainable, total = (int(n.replace(",", "")) for n in re.findall(r"([\d,]+) (?:of|parameters)", counts))
    assert 0 < trainable < total / 10, counts
    assert "Saved the LoRA adapter and tokenizer to final/" in logs
    assert isinstance(events[-1], protocol.Finished) and events[-1].status == "finished"
    final = lora_run / "final"
    names = {path.name for path in final.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "head_config.json", "tokenizer_config.json"} <= names
    assert "config.json" not in names and "model.safetensors" not in names
    config = json.loads((final / "adapter_config.json").read_text())
    assert config["r"] == 4 and config["task_type"] == "SEQ_CLS" and config["base_model_name_or_path"]
    assert not config["base_model_name_or_path"].startswith(str(lora_run))
    assert (final / "merged" / "config.json").is_file() and (final / "merged" / "model.safetensors").is_file()


def test_the_adapter_folder_opens_and_predicts_like_the_merged_model(lora_run):
    import torch
    from transformers import AutoModelForSequenceClassification

    from workbench.core.models.heads import head_kind
    from workbench.core.models.inference import PlaygroundInput, predict
    from workbench.core.models.inspect import inspect_checkpoint
    from workbench.core.models.loading import LoadOptions, load_model

    info = inspect_checkpoint(lora_run / "final")
    loaded = load_model(info, LoadOptions(head_kind("sequence-classification")))
    assert loaded.id2label == {0: "neg", 1: "pos"} and not loaded.report.head_all_new
    prediction = predict(loaded, PlaygroundInput(text="the movie was great good"))
    assert prediction.as_dict()
    merged = AutoModelForSequenceClassification.from_pretrained(lora_run / "final" / "merged").eval()
    batch = loaded.tokenizer(["the plot was awful bad", "a film very nice happy"], return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(loaded.model(**batch).logits, merged(**batch).logits, atol=1e-5)


def test_model_predict_runs_the_adapter_folder(lora_run, capsys):
    from workbench.cli import main

    final = str(lora_run / "final")
    assert main(["model", "predict", final, "--head", "sequence-classification", "good great movie", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert "LoRA adapter on" in output["model"] and output["loading"] == "all from checkpoint"
    assert main(["model", "predict", final, "--head", "causal-lm", "good"]) != 0
    assert "sequence-classification adapter" in capsys.readouterr().err


async def test_the_models_pane_opens_the_adapter_and_the_playground_runs_it(lora_run):
    from textual.widgets import Input, TabbedContent

    from tests.models.test_models_pane import SIZE, _settle
    from workbench.ui.app import make_app

    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.screen.query_one("#models-pane")
        pane.open_model(str(lora_run / "final"))
        pane.query_one("#model-tabs", TabbedContent).active = "model-heads-tab"
        await _settle(pilot)
        assert "LoRA adapter on" in pane.info.name and pane.info.adapter == lora_run / "final"
        assert pane.head_key == "sequence-classification"  # the head the run trained
        assert pane.query_one("#model-labels", Input).value == "0=neg, 1=pos"
        pane.action_load()
        await _settle(pilot)
        assert pane.loaded is not None and pane.loaded.report.status == "all from checkpoint"
        pane.query_one("#model-tabs", TabbedContent).active = "model-playground-tab"
        await _settle(pilot)
        pane.query_one("#playground").set_text("the film was great good", "")
        pane.action_run()
        await _settle(pilot)
        assert {item["label"] for item in pane.last_prediction[0].result["labels"]} == {"neg", "pos"}
