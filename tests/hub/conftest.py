"""Fixtures: the in-memory Hub server, a model folder and a run folder laid out as RUNS_API.md says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from safetensors.numpy import save_file

from tests.hub.fake_hub import WRITE_TOKEN, FakeHub
from workbench.core.runs.protocol import Evaluation, EventWriter, Finished, RunStarted, Step

RUN_ID = "20261128-120000-minilm-ab12"


@pytest.fixture(scope="session")
def fake_hub_server():
    with FakeHub() as server:
        yield server


@pytest.fixture
def hub(fake_hub_server, monkeypatch, tmp_path):
    """A clean fake Hub, with huggingface_hub pointed at it and its token files in tmp_path.

    conftest turns on HF_HUB_OFFLINE for the whole suite; these tests talk to 127.0.0.1 only,
    so they turn it off here (huggingface_hub read it at import, hence the constants).
    """
    from huggingface_hub import constants, hf_api

    fake_hub_server.reset()
    for variable in (
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HF_DATASETS_OFFLINE",
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", fake_hub_server.url)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    # huggingface_hub's own `login` validates with its module-level HfApi: point it here too
    # (not constants.ENDPOINT: hf_hub_url compares URLs against it to swap in `endpoint=`).
    monkeypatch.setattr(hf_api.api, "endpoint", fake_hub_server.url)
    token_dir = tmp_path / "hf-home"
    token_dir.mkdir()
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(token_dir / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(token_dir / "stored_tokens"))
    return fake_hub_server


@pytest.fixture
def client(hub):
    from workbench.core.hub.client import HubClient

    return HubClient(hub.url, WRITE_TOKEN)


def write_model_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "id2label": {"0": "not_equivalent", "1": "equivalent"},
        "label2id": {"not_equivalent": 0, "equivalent": 1},
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    rng = np.random.default_rng(0)
    save_file({"classifier.weight": rng.standard_normal((2, 32)).astype("float32")}, str(folder / "model.safetensors"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True, "model_max_length": 128}))
    (folder / "vocab.txt").write_text(
        "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]) + "\n"
    )
    (folder / "training_notes.tmp").write_text("scratch\n")  # excluded by default (*.tmp)
    return folder


def write_run_folder(runs_dir: Path, run_id: str = RUN_ID) -> Path:
    run_dir = runs_dir / run_id
    run_dir.mkdir(parents=True)
    spec = {
        "model": {"name_or_path": "google-bert/bert-base-uncased", "head": "sequence-classification", "num_labels": 2},
        "data": {
            "train_file": "/data/glue/mrpc/train.tsv",
            "validation_file": "/data/glue/mrpc/dev.tsv",
            "text_column": "#1 String",
            "text_pair_column": "#2 String",
            "label_column": "Quality",
        },
        "training": {"learning_rate": 5e-05, "num_train_epochs": 2, "per_device_train_batch_size": 16, "seed": 42},
    }
    (run_dir / "spec.toml").write_text(tomli_w.dumps(spec))
    versions = {"transformers": "5.24.0", "torch": "2.13.0", "datasets": "5.2.0", "tokenizers": "0.22.0"}
    with EventWriter(run_dir / "events.jsonl") as writer:
        writer.emit(RunStarted(run_id=run_id, spec=spec, versions=versions, total_steps=460, time=1.0))
        writer.emit(Step(step=230, epoch=1.0, loss=0.5512, learning_rate=2.5e-05, time=2.0))
        writer.emit(
            Evaluation(
                step=230, epoch=1.0, metrics={"eval_loss": 0.4801, "eval_accuracy": 0.7966, "eval_f1": 0.8571}, time=3.0
            )
        )
        writer.emit(Step(step=460, epoch=2.0, loss=0.3304, learning_rate=0.0, time=4.0))
        writer.emit(
            Evaluation(
                step=460, epoch=2.0, metrics={"eval_loss": 0.4122, "eval_accuracy": 0.8333, "eval_f1": 0.8815}, time=5.0
            )
        )
        writer.emit(Finished(status="finished", time=6.0))
    summary = {
        "status": "finished",
        "run_id": run_id,
        "model": "google-bert/bert-base-uncased",
        "dataset": "glue/mrpc",
        "head": "sequence-classification",
        "steps": 460,
        "epochs": 2,
        "train_runtime_s": 321.5,
        "final_metrics": {"eval_loss": 0.4122, "eval_accuracy": 0.8333, "eval_f1": 0.8815},
        "best_metric": {"name": "eval_f1", "value": 0.8815, "step": 460},
        "hyperparameters": spec["training"],
        "versions": versions,
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    (run_dir / "stdout.log").write_text("step 460 loss 0.33\n")
    write_model_folder(run_dir / "final")
    return run_dir


@pytest.fixture
def model_folder(tmp_path) -> Path:
    return write_model_folder(tmp_path / "my-model")


@pytest.fixture
def run_dir(tmp_path) -> Path:
    return write_run_folder(tmp_path / "runs")


DISPLAY_ENDPOINT = "http://hub.test"


@pytest.fixture
def display_hub(hub, monkeypatch):
    """The fake Hub under a stable name (http://hub.test), so URLs on screen do not carry a random port.

    huggingface_hub's HTTP client sends http://hub.test requests through the fake server as a proxy.
    """
    import httpx2
    from huggingface_hub import hf_api, set_client_factory
    from huggingface_hub.utils._http import default_client_factory, hf_request_event_hook

    def client_factory():
        return httpx2.Client(
            event_hooks={"request": [hf_request_event_hook]},
            follow_redirects=True,
            timeout=None,
            mounts={DISPLAY_ENDPOINT: httpx2.HTTPTransport(proxy=hub.url)},
        )

    set_client_factory(client_factory)
    monkeypatch.setenv("HF_ENDPOINT", DISPLAY_ENDPOINT)
    monkeypatch.setattr(hf_api.api, "endpoint", DISPLAY_ENDPOINT)
    yield hub
    set_client_factory(default_client_factory)
