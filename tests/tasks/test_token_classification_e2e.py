"""Token classification end to end: a tiny run of the real child on CoNLL files, then
`workbench model predict --head token-classification` on its final model."""

from __future__ import annotations

import json
import random

import pytest

from tests.tasks.test_token_classification import FILLER, ORGS, PEOPLE, PLACES, tiny_ner_model
from tests.training.helpers import dump_log, run_child
from workbench.core.runs import protocol

pytestmark = pytest.mark.slow

TAGS = ["O", "B-LOC", "B-ORG", "B-PER", "I-PER"]


def sentences(count: int, seed: int) -> list[list[tuple[str, str, str]]]:
    """Sentences like `alice bob visited paris .` with POS-like and NER columns."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        words = []
        person = rng.sample(PEOPLE, rng.randint(1, 2))
        words.append((person[0], "NNP", "B-PER"))
        words += [(name, "NNP", "I-PER") for name in person[1:]]
        words += [(word, "VB", "O") for word in rng.sample(FILLER, rng.randint(1, 3))]
        if rng.random() < 0.7:
            words.append((rng.choice(PLACES), "NNP", "B-LOC"))
        else:
            words.append((rng.choice(ORGS), "NNP", "B-ORG"))
        words.append((".", ".", "O"))
        rows.append(words)
    return rows


def conll_text(rows) -> str:
    blocks = ["-DOCSTART- -X- O\n"]
    blocks += ["".join(f"{word} {pos} {tag}\n" for word, pos, tag in sentence) for sentence in rows]
    return "\n".join(blocks)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    from workbench.training.spec import default_spec

    folder = tmp_path_factory.mktemp("ner-e2e")
    model = tiny_ner_model(
        folder / "model", labels=["O", "B-X", "I-X"], initializer_range=0.02
    )  # a head of another size: replaced
    train = folder / "train.txt"
    train.write_text(conll_text(sentences(40, 0)), encoding="utf-8")
    validation = folder / "valid.txt"
    validation.write_text(conll_text(sentences(12, 1)), encoding="utf-8")
    spec = default_spec(model=str(model), data=str(train), head="token-classification")
    spec["data"].update(validation_file=str(validation), text_column="tokens", label_column="ner_tags")
    spec["training"].update(
        learning_rate=1e-2,
        max_steps=20,
        logging_steps=2,
        per_device_train_batch_size=8,
        eval_strategy="steps",
        eval_steps=10,
        save_steps=0,
    )
    spec["monitor"]["system_sample_interval_s"] = 0
    run_dir = folder / "run"
    result = run_child(spec, run_dir)
    assert result.returncode == 0, result.stderr[-3000:] + dump_log(run_dir)
    return run_dir


def test_the_run_evaluates_with_seqeval_and_saves_the_tags(finished_run):
    events = protocol.read_events(finished_run / "events.jsonl")
    evaluations = [event for event in events if isinstance(event, protocol.Evaluation)]
    assert evaluations
    last = evaluations[-1]
    assert {"eval_loss", "precision", "recall", "f1", "accuracy"} <= set(last.metrics)
    assert all(0 <= last.metrics[name] <= 1 for name in ("precision", "recall", "f1", "accuracy"))
    assert last.metrics["f1"] >= 0.8  # the tiny model learns the names and places of these sentences
    assert isinstance(events[-1], protocol.Finished) and events[-1].status == "finished"

    config = json.loads((finished_run / "final" / "config.json").read_text())
    assert config["id2label"] == {str(index): tag for index, tag in enumerate(TAGS)}

    import pyarrow.parquet as pq

    table = pq.read_table(finished_run / "predictions" / f"step-{last.step}.parquet").to_pydict()
    assert len(table["id"]) == 12
    assert table["input"][0].endswith(" .")
    assert len(table["gold"][0].split()) == len(table["input"][0].split()) == len(table["predicted"][0].split())
    assert set(" ".join(table["gold"]).split()) <= set(TAGS)


def test_model_predict_gives_entities_with_type_score_and_offsets(finished_run, capsys):
    from workbench.cli import main

    text = "alice bob visited paris ."
    code = main(["model", "predict", str(finished_run / "final"), "--head", "token-classification", text, "--json"])
    output = json.loads(capsys.readouterr().out)
    assert code == 0
    entities = output["result"]["entities"]
    assert [(entity["type"], entity["word"]) for entity in entities] == [("PER", "alice bob"), ("LOC", "paris")]
    for entity in entities:
        assert entity["type"] in {"LOC", "ORG", "PER"}
        assert 0 < entity["score"] <= 1
        assert text[entity["start"] : entity["end"]] == entity["word"]
    assert main(["model", "predict", str(finished_run / "final"), "--head", "base", text, "--aggregation", "max"]) != 0
    assert "--aggregation is read only by the token-classification head" in capsys.readouterr().err
