"""A real seq2seq run: a tiny T5 from a config learns a toy translation from ~30 parallel lines in
the training child; its evaluations carry BLEU, chrF, the loss and sample predictions, and the
final model translates through `workbench model predict --head text2text-generation`."""

from __future__ import annotations

import json

import pytest

from tests.tasks.test_seq2seq import LEXICON, make_tiny_t5, write_parallel
from tests.training.helpers import dump_log, run_child

pytestmark = pytest.mark.slow


def test_translation_run_reports_bleu_chrf_and_samples(tmp_path, monkeypatch, capsys):
    from workbench.cli import main
    from workbench.training.spec import default_spec

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    model = make_tiny_t5(tmp_path / "t5")
    train = write_parallel(tmp_path, "train", 32, 0)
    write_parallel(tmp_path, "val", 8, 1)
    spec = default_spec(model=str(model), data=str(train), head="seq2seq")
    spec["model"]["from_config"] = True
    spec["data"].update(validation_file=str(tmp_path / "val.en"), source_lang="en", target_lang="de", max_length=16)
    spec["data"]["max_target_length"] = 16
    spec["training"].update(
        learning_rate=3e-3,
        max_steps=12,
        per_device_train_batch_size=8,
        per_device_eval_batch_size=4,
        logging_steps=4,
        eval_strategy="epoch",
        save_steps=12,
        generation_max_length=12,
    )
    run_dir = tmp_path / "run"
    result = run_child(spec, run_dir)
    assert result.returncode == 0, dump_log(run_dir) + result.stderr[-3000:]

    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    evaluations = [event for event in events if event["type"] == "evaluation"]
    assert [event["step"] for event in evaluations] == [4, 8, 12]  # 32 rows, batch 8: an epoch is 4 steps
    last = evaluations[-1]
    assert {"eval_loss", "bleu", "chrf"} <= set(last["metrics"])
    assert "rouge1" not in last["metrics"]
    assert evaluations[-1]["metrics"]["eval_loss"] < evaluations[0]["metrics"]["eval_loss"]
    assert len(last["samples"]) == 3
    assert last["samples"][0]["input"] == (tmp_path / "val.en").read_text().splitlines()[0]
    assert set(last["samples"][0]) == {"input", "reference", "prediction"}
    assert last["predictions"]  # the per-example table is kept

    capsys.readouterr()
    final = run_dir / "final"
    assert main(["model", "predict", str(final), "--head", "text2text-generation", "the dog runs", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["head"] == "seq2seq-lm"
    words = output["result"]["generated"].split()
    assert output["result"]["new_tokens"] > 0 and set(words) <= set(LEXICON.values())  # German words only
