"""Tiny checkpoints made from configs in the test (labels given), a run folder around one, and serving.

Every app is served for real on 127.0.0.1 and asked through gradio_client, as a user's script would."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

TINY = dict(
    hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37, max_position_embeddings=128
)
NER_LABELS = {0: "O", 1: "B-PER", 2: "I-PER"}
SENTIMENT_LABELS = {0: "negative", 1: "positive"}
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_demo_command(command: list[str], env: dict, errors, timeout_s: float = 240):
    """Start a `workbench demo` command line with stderr to `errors` (a file); (process, the first stdout
    line starting with "Demo of", or the last one read when none came within `timeout_s`). A command that
    exits first fails the test with its stderr."""
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=errors, text=True, env=env)
    deadline = time.monotonic() + timeout_s
    line = ""
    while not line.startswith("Demo of") and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            errors.seek(0)
            pytest.fail(f"workbench demo exited with {process.returncode}: {errors.read()[-3000:]}")
    return process, line


@pytest.fixture(scope="session")
def tokenizer():
    from transformers import AutoTokenizer

    from workbench.core.embedded import embedded_model_path

    return AutoTokenizer.from_pretrained(str(embedded_model_path()))


def _bert(tokenizer, model_class: str, labels: dict[int, str] | None = None, seed: int = 0):
    import torch
    import transformers

    torch.manual_seed(seed)
    extra = {}
    if labels:
        extra = {"id2label": labels, "label2id": {name: index for index, name in labels.items()}}
    config = transformers.BertConfig(vocab_size=tokenizer.vocab_size, **TINY, **extra)
    return getattr(transformers, model_class)(config).eval()


def save(model, tokenizer, folder: Path) -> Path:
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny(tmp_path_factory, tokenizer) -> dict[str, Path]:
    """name -> folder: sentiment (2 labels), ner (O/B-PER/I-PER, biased to I-PER), qa, mlm, gpt2, t5."""
    import torch
    import transformers

    root = tmp_path_factory.mktemp("tiny-demo-models")
    models = {}
    models["sentiment"] = save(
        _bert(tokenizer, "BertForSequenceClassification", SENTIMENT_LABELS), tokenizer, root / "sentiment"
    )
    ner = _bert(tokenizer, "BertForTokenClassification", NER_LABELS)
    with torch.no_grad():  # every token says I-PER: the spans merge into one entity, whatever the weights
        ner.classifier.weight.zero_()
        ner.classifier.bias.copy_(torch.tensor([0.0, 0.0, 5.0]))
    models["ner"] = save(ner, tokenizer, root / "ner")
    models["qa"] = save(_bert(tokenizer, "BertForQuestionAnswering"), tokenizer, root / "qa")
    models["mlm"] = save(_bert(tokenizer, "BertForMaskedLM"), tokenizer, root / "mlm")
    torch.manual_seed(0)
    gpt2 = transformers.GPT2LMHeadModel(
        transformers.GPT2Config(vocab_size=tokenizer.vocab_size, n_embd=32, n_layer=1, n_head=2, n_positions=128)
    ).eval()
    models["gpt2"] = save(gpt2, tokenizer, root / "gpt2")
    torch.manual_seed(0)
    t5_config = transformers.T5Config(
        vocab_size=tokenizer.vocab_size,
        d_model=32,
        d_kv=16,
        d_ff=37,
        num_layers=1,
        num_heads=2,
        decoder_start_token_id=0,
    )
    models["t5"] = save(transformers.T5ForConditionalGeneration(t5_config).eval(), tokenizer, root / "t5")
    return models


VALIDATION_ROWS = [
    ("A gripping, funny film.", "positive"),
    ("Two hours I will never get back.", "negative"),
    ("The cast is wonderful.", "positive"),
]


@pytest.fixture
def run_folder(tmp_path, tiny) -> Path:
    """A finished run as the child leaves it: spec.toml, events.jsonl, final/ and a validation CSV."""
    import shutil

    run = tmp_path / "runs" / "20260102-100000-minilm-d3m0"
    run.mkdir(parents=True)
    data = tmp_path / "data"
    data.mkdir()
    lines = ["review,sentiment"] + [f'"{text}",{label}' for text, label in VALIDATION_ROWS]
    (data / "dev.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (run / "spec.toml").write_text(
        "[model]\n"
        'name_or_path = "embedded"\n'
        'head = "sequence-classification"\n'
        "[data]\n"
        f'train_file = "{data / "dev.csv"}"\n'
        f'validation_file = "{data / "dev.csv"}"\n'
        'text_column = "review"\n'
        'label_column = "sentiment"\n',
        encoding="utf-8",
    )
    (run / "events.jsonl").write_text("", encoding="utf-8")
    shutil.copytree(tiny["sentiment"], run / "final")
    return run


@pytest.fixture
def served():
    """serve(target, loaded) -> (Served, gradio_client.Client); every server is closed after the test."""
    from gradio_client import Client

    from workbench.core.demo.app import build_app, serve

    started = []

    def start(target, loaded):
        demo = build_app(target, loaded)
        server = serve(demo, host="127.0.0.1", port=0)
        started.append(server)
        return server, Client(server.url, verbose=False, download_files=False)

    yield start
    for server in started:
        server.close()
