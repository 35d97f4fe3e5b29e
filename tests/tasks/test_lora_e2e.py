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


def test_causal_lm_with_lora_trains_the_adapter_and_generates(tiny_model_dir, tmp_path, capsys):  # noqa: F811
    from transformers import AutoTokenizer

    from tests.tasks.test_language_modeling_e2e import check_evaluations, lm_spec
    from workbench.cli import main
    from workbench.core.models.create import create_model, save_model

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    gpt2 = save_model(
        create_model("gpt2", "tiny", overrides={"n_embd": 32, "n_positions": 64}, tokenizer=tokenizer),
        tokenizer,
        tmp_path / "gpt2",
    )
    spec = lm_spec("causal-lm", gpt2, tmp_path)
    spec["data"]["max_length"] = 64
    spec["model"]["lora"] = {"r": 4, "lora_alpha": 8}
    run_dir = tmp_path / "run"
    result = run_child(spec, run_dir, env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, dump_log(run_dir) + result.stderr[-3000:]
    check_evaluations(run_dir)
    config = json.loads((run_dir / "final" / "adapter_config.json").read_text())
    assert config["task_type"] == "CAUSAL_LM" and config["target_modules"] == ["c_attn"]
    assert config["base_model_name_or_path"] == str(gpt2.resolve())
    capsys.readouterr()
    assert main(["model", "predict", str(run_dir / "final"), "--head", "causal-lm", "good movie", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["head"] == "causal-lm" and "LoRA adapter on" in output["model"]


def test_seq2seq_with_lora_generates_during_evaluation(tmp_path, capsys):
    from tests.tasks.test_seq2seq import make_tiny_t5, write_parallel
    from workbench.cli import main
    from workbench.training.spec import default_spec

    model = make_tiny_t5(tmp_path / "t5")
    train = write_parallel(tmp_path, "train", 16, 0)
    write_parallel(tmp_path, "val", 4, 1)
    spec = default_spec(model=str(model), data=str(train), head="seq2seq")
    spec["model"]["lora"] = {"r": 4, "target_modules": ["q", "k", "v", "o"]}
    spec["data"].update(validation_file=str(tmp_path / "val.en"), source_lang="en", target_lang="de", max_length=16)
    spec["training"].update(
        learning_rate=3e-3, max_steps=4, per_device_train_batch_size=8, save_steps=0, generation_max_length=8
    )
    spec["monitor"]["system_sample_interval_s"] = 0
    run_dir = tmp_path / "run"
    result = run_child(spec, run_dir, env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, dump_log(run_dir) + result.stderr[-3000:]
    evaluations = [e for e in protocol.read_events(run_dir / "events.jsonl") if isinstance(e, protocol.Evaluation)]
    assert evaluations and {"eval_loss", "bleu", "chrf"} <= set(evaluations[-1].metrics)
    assert evaluations[-1].samples
    config = json.loads((run_dir / "final" / "adapter_config.json").read_text())
    assert config["task_type"] == "SEQ_2_SEQ_LM" and sorted(config["target_modules"]) == ["k", "o", "q", "v"]
    capsys.readouterr()
    assert main(["model", "predict", str(run_dir / "final"), "--head", "seq2seq-lm", "the dog", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["head"] == "seq2seq-lm"


def test_a_stopped_lora_run_resumes_with_the_same_losses(tiny_spec, tmp_path):  # noqa: F811
    from workbench.training.loop import STOP_AT_ENV

    spec = tiny_spec
    spec["model"]["lora"] = {"r": 4, "lora_dropout": 0.1}
    spec["data"]["max_train_samples"] = 64
    spec["training"].update(max_steps=8, logging_steps=1, save_steps=0, metrics=[], eval_strategy="no")
    spec["monitor"].update(system_sample_interval_s=0, loss_spike_factor=0)

    def losses(run_dir):
        return {e.step: e.loss for e in protocol.read_events(run_dir / "events.jsonl") if isinstance(e, protocol.Step)}

    straight = tmp_path / "straight"
    assert run_child(spec, straight, env={"OMP_NUM_THREADS": "1"}).returncode == 0, dump_log(straight)
    resumed = tmp_path / "resumed"
    first = run_child(spec, resumed, env={"OMP_NUM_THREADS": "1", STOP_AT_ENV: "3"})
    assert first.returncode == 0, dump_log(resumed)
    second = run_child(spec, resumed, resume=True, env={"OMP_NUM_THREADS": "1"})
    assert second.returncode == 0, dump_log(resumed) + second.stderr[-3000:]
    expected, got = losses(straight), losses(resumed)
    assert sorted(got) == list(range(1, 9))
    assert all(abs(expected[step] - got[step]) < 1e-6 for step in expected), (expected, got)
    assert (resumed / "final" / "adapter_model.safetensors").is_file()
