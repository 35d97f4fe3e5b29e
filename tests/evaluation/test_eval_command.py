"""`workbench eval` end to end on a tiny run: the metrics equal the run's final evaluation event, the
predictions equal the run's own, `--compare` reports the flips of two real models, bad input is one
message and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.training.conftest import one_thread_per_run, tiny_data, tiny_model_dir  # noqa: F401  (fixtures)
from tests.training.helpers import dump_log, run_child
from workbench.cli import main

pytestmark = pytest.mark.slow


def tiny_run_spec(tiny_model_dir, tiny_data) -> dict:  # noqa: F811
    from workbench.training.spec import default_spec

    spec = default_spec(model=str(tiny_model_dir), data=str(tiny_data["train"]))
    spec["data"]["validation_file"] = str(tiny_data["dev"])
    spec["training"].update(
        learning_rate=1e-3,
        max_steps=12,
        logging_steps=2,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=16,  # 60 rows: 4 batches, the last one short (weighted by its rows)
        save_steps=6,
        metrics=["accuracy", "f1"],
    )
    spec["monitor"]["system_sample_interval_s"] = 0.5
    return spec


def train(spec: dict, run_dir: Path) -> Path:
    result = run_child(spec, run_dir, env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:] + dump_log(run_dir)
    return run_dir


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tiny_model_dir, tiny_data) -> Path:  # noqa: F811
    """tests/training/conftest.py's tiny_spec, trained for real in the child (one process, CPU)."""
    run_dir = train(tiny_run_spec(tiny_model_dir, tiny_data), tmp_path_factory.mktemp("runs") / "tiny-run")
    assert (run_dir / "final" / "config.json").is_file()
    return run_dir


@pytest.fixture(scope="module")
def other_model(tmp_path_factory, tiny_model_dir, tiny_data) -> Path:  # noqa: F811
    """A second real model with the same labels: the tiny BERT with other random weights, its classifier
    scaled up and centred on the dev file, so that it predicts both classes (a random tiny BERT
    predicts one class for every input)."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("other-model")
    config = BertConfig.from_pretrained(tiny_model_dir, id2label={0: "neg", 1: "pos"}, label2id={"neg": 0, "pos": 1})
    torch.manual_seed(7)
    model = BertForSequenceClassification(config).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    texts = [line.split(",")[0] for line in tiny_data["dev"].read_text(encoding="utf-8").splitlines()[1:]]
    with torch.no_grad():
        model.classifier.weight.mul_(100.0)
        logits = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits
        margin = (logits[:, 1] - logits[:, 0]).median()
        model.classifier.bias[1] -= margin
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def final_evaluation(run_dir: Path) -> dict:
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines() if line.strip()]
    return [event for event in events if event["type"] == "evaluation"][-1]


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["eval", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_eval_of_a_run_equals_its_final_evaluation(tiny_run, tiny_data, capsys):  # noqa: F811
    import pyarrow.parquet as pq

    code, out, err = run_cli(capsys, str(tiny_run), "--data", str(tiny_data["dev"]), "--json")
    assert code == 0, err
    report = json.loads(out)
    event = final_evaluation(tiny_run)
    assert set(report["metrics"]) == set(event["metrics"])
    for name, value in event["metrics"].items():
        assert report["metrics"][name] == pytest.approx(value, abs=5e-5), name
    assert report["examples"] == 60 and report["task"] == "sequence-classification"
    written = tiny_run / "predictions" / "eval-dev.parquet"
    assert report["predictions"] == str(written)
    ours = pq.read_table(written).to_pydict()
    theirs = pq.read_table(tiny_run / event["predictions"]).to_pydict()
    assert ours["id"] == theirs["id"] == list(range(60))
    assert ours["gold"] == theirs["gold"]
    assert ours["predicted"] == theirs["predicted"]
    assert ours["input"] == theirs["input"]
    assert ours["loss"] == pytest.approx(theirs["loss"], abs=1e-5)
    about = json.loads(pq.read_schema(written).metadata[b"workbench.eval"])
    assert about["labels"] == ["neg", "pos"]


def test_text_report_has_metrics_classes_and_matrix(tiny_run, tiny_data, capsys, tmp_path):  # noqa: F811
    output = tmp_path / "out" / "dev.parquet"
    code, out, err = run_cli(capsys, str(tiny_run), "--data", str(tiny_data["dev"]), "--output", str(output))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"run {tiny_run.name}: sequence-classification on 60 example(s)")
    event = final_evaluation(tiny_run)
    assert f"accuracy  {event['metrics']['accuracy']:>10.4f}".split() in [line.split() for line in lines]
    assert any(line.split()[:1] == ["class"] and "support" in line for line in lines)
    assert any(line.startswith("gold \\ predicted") for line in lines)
    assert "eval [" in err  # the progress bar (stderr)
    assert lines[-1] == f"predictions: {output}" and output.is_file()


def test_evaluate_api_unpacks_and_matches_sklearn(tiny_run, tiny_data):  # noqa: F811
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    from workbench.training.evaluate_model import evaluate

    seen = []
    metrics, records = evaluate(
        str(tiny_run), tiny_data["dev"], write=False, batch_size=7, progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (9, 9)  # 60 rows in batches of 7
    assert metrics["accuracy"] == pytest.approx(sklearn_metrics.accuracy_score(records["gold"], records["predicted"]))
    assert metrics["f1"] == pytest.approx(
        sklearn_metrics.f1_score(records["gold"], records["predicted"], pos_label="pos")
    )


def test_compare_reports_the_flips_of_two_models(tiny_run, tiny_data, other_model, capsys, tmp_path, monkeypatch):  # noqa: F811
    from workbench.training.evaluate_model import evaluate

    a = evaluate(str(tiny_run), tiny_data["dev"], write=False)
    b = evaluate(str(other_model), tiny_data["dev"], write=False)
    right_a = [g == p for g, p in zip(a.records["gold"], a.records["predicted"])]
    right_b = [g == p for g, p in zip(b.records["gold"], b.records["predicted"])]
    fixed = [i for i, (x, y) in enumerate(zip(right_a, right_b)) if not x and y]
    broken = [i for i, (x, y) in enumerate(zip(right_a, right_b)) if x and not y]
    assert fixed or broken, "the two models should disagree somewhere"
    output = tmp_path / "a.parquet"
    code, out, err = run_cli(
        capsys, str(tiny_run), "--data", str(tiny_data["dev"]), "--compare", str(other_model), "--json",
        "--output", str(output),
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    flips = report["flips"]
    assert (flips["fixed"], flips["broken"], flips["compared"]) == (len(fixed), len(broken), 60)
    assert (flips["correct_a"], flips["correct_b"]) == (sum(right_a), sum(right_b))
    shown = flips["examples"]
    assert len(shown) == min(10, len(fixed) + len(broken))
    assert [row["id"] for row in shown] == (fixed + broken)[:10]
    assert output.is_file() and (tmp_path / "a-compare.parquet").is_file()

    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, str(tiny_run), "--data", str(tiny_data["dev"]), "--compare", str(other_model))
    assert code == 0, err
    assert (tmp_path / "eval-predictions-compare.parquet").is_file()  # a model folder's: in the working folder
    assert f"{len(fixed)} fixed by B (A wrong, B right), {len(broken)} broken by B" in out
    assert f"of {len(fixed) + len(broken)} flip(s):" in out


def test_eval_of_a_lora_run_loads_its_adapter(tmp_path_factory, tiny_model_dir, tiny_data, capsys):  # noqa: F811
    """A LoRA run leaves an adapter in final/ (no config.json): evaluated over its base model with the
    trained head's labels (head_config.json), the metrics equal the run's final evaluation."""
    spec = tiny_run_spec(tiny_model_dir, tiny_data)
    spec["model"]["lora"] = {"r": 4, "lora_alpha": 8, "lora_dropout": 0.0}
    spec["training"]["learning_rate"] = 5e-3
    run_dir = train(spec, tmp_path_factory.mktemp("lora-runs") / "lora-run")
    assert (run_dir / "final" / "adapter_config.json").is_file()
    assert not (run_dir / "final" / "config.json").exists()
    code, out, err = run_cli(capsys, str(run_dir), "--data", str(tiny_data["dev"]), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["kind"] == "adapter" and report["run"] == "lora-run"
    event = final_evaluation(run_dir)
    assert set(report["metrics"]) == set(event["metrics"])
    for name, value in event["metrics"].items():
        assert report["metrics"][name] == pytest.approx(value, abs=5e-5), name


# -- bad input ---------------------------------------------------------------------------------------------------


def assert_clean_failure(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2, (out, err)
    assert "Traceback" not in err + out
    message = [line for line in err.splitlines() if line.startswith("workbench: ")]
    assert message, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_a_wrong_compare_target_is_named_before_anything_is_evaluated(tiny_model_dir, tiny_data, tmp_path, capsys):  # noqa: F811
    # It evaluated the whole file and wrote the first model's predictions, then failed on OTHER.
    output = tmp_path / "predictions.parquet"
    argv = [str(tiny_model_dir), "--data", str(tiny_data["dev"]), "--compare", "nope", "--output", str(output)]
    code, out, err = run_cli(capsys, *argv)
    assert_clean_failure(code, out, err, "No run 'nope' in", "and no model folder 'nope' here")
    assert "eval [" not in err + out and not output.exists()


def test_columns_the_task_cannot_use(tiny_run, tmp_path, capsys):
    data = tmp_path / "other.csv"
    data.write_text("sentence,label\ngood film,pos\nbad film,neg\n", encoding="utf-8")
    code, out, err = run_cli(capsys, str(tiny_run), "--data", str(data))
    assert_clean_failure(code, out, err, "other.csv: data.text_column: no column 'text'", "Columns: sentence, label")


def test_unknown_labels_are_listed_counted_and_the_rest_evaluated(tiny_run, tiny_data, tmp_path, capsys):  # noqa: F811
    rows = tiny_data["dev"].read_text(encoding="utf-8").splitlines()
    data = tmp_path / "mixed.csv"
    data.write_text("\n".join(rows[:21] + ["the film,neutral", "a plot,neutral", "the actor,meh"]) + "\n")
    code, out, err = run_cli(capsys, str(tiny_run), "--data", str(data), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["dropped_labels"] == {"neutral": 2, "meh": 1}
    assert report["dropped_rows"] == 3
    assert report["examples"] == 20
    assert "Left out 3 row(s) with labels the model does not know: 'neutral' (2), 'meh' (1)" in err
    import pyarrow.parquet as pq

    assert pq.read_table(report["predictions"]).column("id").to_pylist() == list(range(20))

    only_unknown = tmp_path / "unknown.csv"
    only_unknown.write_text("text,label\ngood,meh\n", encoding="utf-8")
    code, out, err = run_cli(capsys, str(tiny_run), "--data", str(only_unknown))
    assert_clean_failure(code, out, err, "no row has a label the model knows: 'meh'", "neg, pos")


def test_unknown_rows_keep_their_row_number(tiny_run, tiny_data, tmp_path):  # noqa: F811
    from workbench.training.evaluate_model import evaluate

    rows = tiny_data["dev"].read_text(encoding="utf-8").splitlines()
    data = tmp_path / "gap.csv"
    data.write_text("\n".join([rows[0], rows[1], "the film,neutral", rows[2], rows[3]]) + "\n")
    report = evaluate(str(tiny_run), data, write=False)
    assert report.records["id"] == [0, 2, 3]  # the file's data rows, the unknown one skipped
    assert report.records["input"] == [rows[1].split(",")[0], rows[2].split(",")[0], rows[3].split(",")[0]]


def test_a_model_without_a_head_for_the_task(tiny_run, tiny_model_dir, tiny_data, tmp_path, capsys):  # noqa: F811
    from transformers import AutoTokenizer, BertConfig, BertModel

    encoder = tmp_path / "encoder"
    BertModel(BertConfig.from_pretrained(tiny_model_dir)).save_pretrained(encoder)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(encoder)
    code, out, err = run_cli(capsys, str(encoder), "--data", str(tiny_data["dev"]))
    assert_clean_failure(code, out, err, "is a BertModel: it has no head")

    code, out, err = run_cli(capsys, str(tiny_model_dir), "--data", str(tiny_data["dev"]), "--task", "masked-lm")
    assert_clean_failure(code, out, err, "is a BertForSequenceClassification: it has no head for masked-lm")

    code, out, err = run_cli(capsys, str(tiny_run), "--data", str(tiny_data["dev"]), "--task", "seq2seq")
    assert_clean_failure(code, out, err, "trained a sequence-classification head: it has no head for seq2seq")


def test_other_bad_arguments(tiny_run, tiny_data, tmp_path, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "no-such-run", "--data", str(tiny_data["dev"]))
    assert_clean_failure(code, out, err, "No run 'no-such-run'", "no model folder 'no-such-run' here")
    code, out, err = run_cli(capsys, str(tiny_run), "--data", str(tmp_path / "missing.csv"))
    assert_clean_failure(code, out, err, "missing.csv: no such file or folder")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, out, err = run_cli(capsys, str(tiny_run), "--data", str(empty))
    assert_clean_failure(code, out, err, "workbench: empty.csv: the file is empty")
    code, out, err = run_cli(capsys, str(tmp_path), "--data", str(tiny_data["dev"]))
    assert_clean_failure(code, out, err, "is not a model folder")
    code, out, err = run_cli(capsys, str(tiny_run), "--data", str(tiny_data["dev"]), "--batch-size", "0")
    assert_clean_failure(code, out, err, "--batch-size must be 1 or more")
    code, out, err = run_cli(capsys, str(tiny_run), "--data", str(tiny_data["dev"]), "--task", "nonsense")
    assert_clean_failure(code, out, err, "Unknown task 'nonsense'")


# -- other tasks ----------------------------------------------------------------------------------------------------


def head_model(tiny_model_dir: Path, folder: Path, class_name: str, labels: list[str] | None = None) -> Path:  # noqa: F811
    import torch
    import transformers

    options = {"id2label": dict(enumerate(labels)), "label2id": {n: i for i, n in enumerate(labels)}} if labels else {}
    config = transformers.BertConfig.from_pretrained(tiny_model_dir, **options)
    torch.manual_seed(0)
    getattr(transformers, class_name)(config).save_pretrained(folder)
    transformers.AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(folder)
    return folder


def test_token_classification_on_a_conll_file_drops_sentences_with_unknown_tags(tiny_model_dir, tmp_path, capsys):  # noqa: F811
    model = head_model(tiny_model_dir, tmp_path / "ner", "BertForTokenClassification", ["O", "B-PER", "I-PER"])
    sentences = [
        [("the", "O"), ("actor", "B-PER"), ("was", "O"), ("good", "O")],
        [("a", "O"), ("film", "B-LOC"), ("is", "O")],  # B-LOC: unknown to the model
        [("the", "O"), ("plot", "O"), ("actor", "B-PER"), ("actor", "I-PER")],
    ]
    data = tmp_path / "small.conll"
    data.write_text("\n\n".join("\n".join(f"{w} NN O {t}" for w, t in s) for s in sentences) + "\n", encoding="utf-8")
    code, out, err = run_cli(capsys, str(model), "--data", str(data), "--json", "--output", str(tmp_path / "p.parquet"))
    assert code == 0, err
    report = json.loads(out)
    assert report["task"] == "token-classification"
    assert report["dropped_labels"] == {"B-LOC": 1} and report["dropped_rows"] == 1
    assert report["examples"] == 2
    assert {"eval_loss", "f1", "precision", "recall", "accuracy"} <= set(report["metrics"])


def test_question_answering_on_a_squad_file(tiny_model_dir, tmp_path):  # noqa: F811
    from workbench.training.evaluate_model import evaluate

    model = head_model(tiny_model_dir, tmp_path / "qa", "BertForQuestionAnswering")
    context = "the actor was good and the film was very nice"
    data = tmp_path / "squad.json"
    paragraphs = [
        {
            "context": context,
            "qas": [
                {"id": f"q{i}", "question": q, "answers": [{"text": a, "answer_start": context.index(a)}]}
                for i, (q, a) in enumerate([("the actor was", "good"), ("the film was", "very nice")])
            ],
        }
    ]
    data.write_text(json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": paragraphs}]}))
    report = evaluate(str(model), data, write=False)
    assert report.task == "question-answering" and report.examples == 2
    assert {"eval_loss", "exact_match", "f1"} <= set(report.metrics)
    assert sorted(report.records["id"]) == ["q0", "q1"]  # QA keeps the file's own ids


def test_regression_has_no_classes_and_no_flips(tiny_model_dir, tmp_path, capsys, monkeypatch):  # noqa: F811
    import torch
    import transformers

    model = tmp_path / "regression"
    config = transformers.BertConfig.from_pretrained(tiny_model_dir, num_labels=1, problem_type="regression")
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(config).save_pretrained(model)
    transformers.AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(model)
    data = tmp_path / "scores.csv"
    data.write_text("text,score\n" + "".join(f"good film {i},{i / 4:.2f}\n" for i in range(12)), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, str(model), "--data", str(data), "--compare", str(model))
    assert code == 0, err
    assert "pearsonr" in out and "gold \\ predicted" not in out  # no confusion matrix for regression
    assert "regression values: no example is right or wrong, so none flipped" in out


def test_a_file_without_the_columns_a_model_folder_needs(tiny_run, tmp_path, capsys):
    final = tiny_run / "final"
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    code, out, err = run_cli(capsys, str(final), "--data", str(numbers))
    assert_clean_failure(code, out, err, "no column of the file can be its text or label", "Columns: a, b.")
    unlabelled = tmp_path / "unlabelled.csv"
    unlabelled.write_text("text\ngood film\n", encoding="utf-8")
    code, out, err = run_cli(capsys, str(final), "--data", str(unlabelled))
    assert_clean_failure(code, out, err, "no column of the file can be its label")


def test_a_run_without_a_final_model(tiny_run, tiny_data, tmp_path, capsys):  # noqa: F811
    import shutil

    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    for name in ("spec.toml", "events.jsonl"):
        shutil.copy(tiny_run / name, unfinished / name)
    code, out, err = run_cli(capsys, str(unfinished), "--data", str(tiny_data["dev"]))
    assert_clean_failure(code, out, err, "run unfinished has no final model")
    assert "resume it with `workbench resume unfinished`" in err  # it named `workbench train --resume`, no command
