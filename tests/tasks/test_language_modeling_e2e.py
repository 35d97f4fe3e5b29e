"""masked-lm and causal-lm through the real training child: a tiny BERT, and a tiny GPT-2 from a config."""

from __future__ import annotations

import json
import math
import random

import pytest

from tests.training.conftest import FILLER, WORDS_NEGATIVE, WORDS_POSITIVE, tiny_model_dir  # noqa: F401
from tests.training.helpers import dump_log, run_child

pytestmark = pytest.mark.slow

ONE_THREAD = {"OMP_NUM_THREADS": "1"}


def write_corpus(path, count: int, seed: int) -> str:
    rng = random.Random(seed)
    words = WORDS_POSITIVE + WORDS_NEGATIVE + FILLER
    paragraphs = [
        "\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(4, 12))) for _ in range(rng.randint(1, 3)))
        for _ in range(count)
    ]
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return str(path)


def lm_spec(head: str, model, tmp_path, **data) -> dict:
    from workbench.training.spec import default_spec

    spec = default_spec(model=str(model), data=write_corpus(tmp_path / "train.txt", 120, 0), head=head)
    spec["data"].update(validation_file=write_corpus(tmp_path / "valid.txt", 20, 1), block_size=32, **data)
    spec["training"].update(
        learning_rate=1e-3,
        max_steps=8,
        logging_steps=2,
        eval_strategy="steps",
        eval_steps=4,
        per_device_train_batch_size=8,
        per_device_eval_batch_size=16,
        save_steps=100,
    )
    return spec


def evaluations(run_dir) -> list[dict]:
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    return [event for event in events if event["type"] == "evaluation"]


def check_evaluations(run_dir) -> list[dict]:
    found = evaluations(run_dir)
    assert [event["step"] for event in found] == [4, 8]
    for event in found:
        metrics = event["metrics"]
        assert set(metrics) == {"eval_loss", "perplexity"}
        assert metrics["perplexity"] == pytest.approx(math.exp(metrics["eval_loss"]))
    from workbench.core.runs import predictions

    table = predictions.read(run_dir / found[-1]["predictions"])
    assert {"id", "input", "loss", "perplexity"} <= set(table.column_names) and table.num_rows > 0
    return found


def test_masked_lm_run(tiny_model_dir, tmp_path):  # noqa: F811
    from transformers import AutoModelForMaskedLM

    spec = lm_spec("masked-lm", tiny_model_dir, tmp_path, text_file_mode="paragraph", mlm_probability=0.2)
    run_dir = tmp_path / "run"
    result = run_child(spec, run_dir, env=ONE_THREAD)
    assert result.returncode == 0, dump_log(run_dir) + result.stderr[-3000:]
    found = check_evaluations(run_dir)
    assert found[-1]["metrics"]["eval_loss"] < found[0]["metrics"]["eval_loss"] + 0.5  # trains, does not diverge
    from workbench.core.runs import predictions

    table = predictions.read(run_dir / found[-1]["predictions"]).to_pydict()
    assert "[MASK]" in " ".join(table["input"]) and all(table["gold"])
    model = AutoModelForMaskedLM.from_pretrained(run_dir / "final")
    assert type(model).__name__ == "BertForMaskedLM"


def test_causal_lm_from_config_and_generation(tiny_model_dir, tmp_path, capsys):  # noqa: F811
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from workbench.cli import main
    from workbench.core.models.create import create_model, save_model

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    gpt2 = save_model(
        create_model("gpt2", "tiny", overrides={"n_embd": 32, "n_positions": 64}, tokenizer=tokenizer),
        tokenizer,
        tmp_path / "gpt2",
    )
    spec = lm_spec("causal-lm", gpt2, tmp_path)
    spec["model"]["from_config"] = True
    spec["data"]["max_length"] = 64  # the engine checks it against the positions too
    run_dir = tmp_path / "run"
    result = run_child(spec, run_dir, env=ONE_THREAD)
    assert result.returncode == 0, dump_log(run_dir) + result.stderr[-3000:]
    found = check_evaluations(run_dir)
    assert found[-1]["metrics"]["perplexity"] < found[0]["metrics"]["perplexity"]
    assert found[0]["samples"] and {"input", "reference", "predicted"} <= set(found[0]["samples"][0])
    model = AutoModelForCausalLM.from_pretrained(run_dir / "final")
    assert type(model).__name__ == "GPT2LMHeadModel"

    capsys.readouterr()
    command = ["model", "predict", str(run_dir / "final"), "--head", "text-generation", "good movie", "--json"]
    assert main(command) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["head"] == "causal-lm" and output["loading"] == "all from checkpoint"
    assert output["result"]["new_tokens"] >= 1 and isinstance(output["result"]["generated"], str)


def test_block_size_above_the_model_fails_the_run_with_both_numbers(tiny_model_dir, tmp_path):  # noqa: F811
    spec = lm_spec("masked-lm", tiny_model_dir, tmp_path)
    spec["data"]["block_size"] = 256  # the tiny BERT has 128 positions
    run_dir = tmp_path / "run"
    run_child(spec, run_dir, env=ONE_THREAD)
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    failed = [event for event in events if event["type"] == "failed"]
    assert failed and "data.block_size: is 256" in failed[0]["error"] and "128" in failed[0]["error"]
    assert not (run_dir / "final").exists()
