"""Question answering end to end: a tiny run of the real child on SQuAD-style JSON Lines (some
contexts longer than a window), then `workbench model predict --head question-answering` on its
final model."""

from __future__ import annotations

import json
import random

import pytest

from tests.tasks.test_question_answering import build_tiny_qa
from tests.training.helpers import dump_log, run_child
from workbench.core.runs import protocol

pytestmark = pytest.mark.slow

WHO = ["the old king", "the queen", "many people", "the new king"]
WHAT = ["the stone bridge", "the wood tower", "the new city", "the old tower"]
FILLER = "many people live there and the river is old ."


def examples(count: int, seed: int, prefix: str) -> list[dict]:
    """`who built X ?` over contexts like `... the queen built the stone bridge in the north . ...`."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        who, what = rng.choice(WHO), rng.choice(WHAT)
        before = " ".join([FILLER] * rng.choice([0, 1, 6]))  # 6 fillers: past one 64-token window
        sentence = f"{who} built {what} in the {rng.choice(['north', 'south'])} ."
        context = f"{before} {sentence}".strip()
        start = context.index(sentence)
        rows.append(
            {
                "id": f"{prefix}{index}",
                "question": f"who built {what} ?",
                "context": context,
                "answers": {"text": [who], "answer_start": [start]},
            }
        )
    return rows


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    from workbench.training.spec import default_spec

    folder = tmp_path_factory.mktemp("qa-e2e")
    model = build_tiny_qa(folder / "model")
    train, validation = folder / "train.jsonl", folder / "validation.jsonl"
    train.write_text("".join(json.dumps(row) + "\n" for row in examples(30, 0, "t")), encoding="utf-8")
    validation.write_text("".join(json.dumps(row) + "\n" for row in examples(10, 1, "v")), encoding="utf-8")
    spec = default_spec(model=str(model), data=str(train))
    spec["model"]["head"] = "question-answering"
    spec["data"].update(validation_file=str(validation), max_length=64, doc_stride=16)
    spec["training"].update(
        learning_rate=1e-2,
        max_steps=8,
        logging_steps=2,
        per_device_train_batch_size=8,
        eval_strategy="steps",
        eval_steps=4,
        save_steps=0,
        metrics=["exact_match", "f1"],
    )
    spec["monitor"]["system_sample_interval_s"] = 0
    run_dir = folder / "run"
    result = run_child(spec, run_dir)
    assert result.returncode == 0, result.stderr[-3000:] + dump_log(run_dir)
    return run_dir


def test_the_run_scores_squad_exact_match_and_f1(finished_run):
    events = protocol.read_events(finished_run / "events.jsonl")
    evaluations = [event for event in events if isinstance(event, protocol.Evaluation)]
    assert evaluations
    last = evaluations[-1]
    assert {"eval_loss", "exact_match", "f1"} <= set(last.metrics)
    assert last.metrics["eval_loss"] == last.metrics["eval_loss"]  # a loss, not NaN: eval batches carry positions
    assert 0 <= last.metrics["exact_match"] <= last.metrics["f1"] <= 100
    assert isinstance(events[-1], protocol.Finished) and events[-1].status == "finished"
    notes = [event.message for event in events if isinstance(event, protocol.LogLine)]
    assert any("windows for 30 questions" in note for note in notes)

    config = json.loads((finished_run / "final" / "config.json").read_text())
    assert config["architectures"] == ["BertForQuestionAnswering"]

    import pyarrow.parquet as pq

    table = pq.read_table(finished_run / "predictions" / f"step-{last.step}.parquet").to_pydict()
    assert table["id"] == [f"v{index}" for index in range(10)]
    assert all(question.startswith("who built") for question in table["input"])
    for context, predicted, start in zip(table["context"], table["predicted"], table["start"], strict=True):
        assert start == -1 or context[start : start + len(predicted)] == predicted
    assert max(table["windows"]) > 1


def test_model_predict_gives_the_answer_with_score_and_offsets(finished_run, capsys):
    from workbench.cli import main

    context = "the queen built the wood tower in the south ."
    code = main(
        [
            "model",
            "predict",
            str(finished_run / "final"),
            "--head",
            "question-answering",
            "--context",
            context,
            "who built the wood tower ?",
            "--json",
        ]
    )
    output = json.loads(capsys.readouterr().out)
    assert code == 0
    result = output["result"]
    assert result["answer"] == context[result["start"] : result["end"]]
    assert 0 < result["score"] <= 1
