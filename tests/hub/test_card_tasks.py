"""The model card per task (pipeline tag, model-index task, metric names) and for a LoRA adapter run."""

from __future__ import annotations

import json

import pytest
import tomli_w
import tomllib

from tests.hub.conftest import write_run_folder
from workbench.core.hub.card import build_card, card_facts, check_card
from workbench.core.hub.source import resolve_source


def retarget(run_dir, head: str, final_metrics: dict, **data) -> None:
    """The run folder of conftest, as a run of another task with these final metrics."""
    spec = tomllib.loads((run_dir / "spec.toml").read_text())
    spec["model"]["head"] = head
    spec["data"].update(data)
    (run_dir / "spec.toml").write_text(tomli_w.dumps(spec))
    summary = json.loads((run_dir / "summary.json").read_text())
    summary.update(head=head, final_metrics=final_metrics)
    (run_dir / "summary.json").write_text(json.dumps(summary))


def card_of(run_dir, repo_id: str = "alice/model"):
    from huggingface_hub import ModelCard

    text = build_card(card_facts(resolve_source(run_dir), repo_id), repo_id)
    assert check_card(text).ok, check_card(text).errors
    return ModelCard(text)


@pytest.mark.parametrize(
    ("head", "metrics", "data", "tag", "task_name", "metric_ids", "titles"),
    [
        (
            "token-classification",
            {"eval_loss": 0.2, "eval_precision": 0.8, "eval_recall": 0.7, "eval_f1": 0.75, "eval_accuracy": 0.9},
            {},
            "token-classification",
            "Token Classification",
            ["seqeval"],
            {"precision": "Precision", "f1": "F1", "accuracy": "Accuracy"},
        ),
        (
            "question-answering",
            {"eval_loss": 1.1, "eval_exact_match": 61.0, "eval_f1": 72.5},
            {},
            "question-answering",
            "Question Answering",
            ["exact_match", "f1"],
            {"exact_match": "Exact Match", "f1": "F1"},
        ),
        (
            "causal-lm",
            {"eval_loss": 3.2, "eval_perplexity": 24.5},
            {},
            "text-generation",
            "Causal Language Modeling",
            ["perplexity"],
            {"perplexity": "Perplexity"},
        ),
        (
            "seq2seq",
            {"eval_loss": 2.0, "eval_rouge1": 30.1, "eval_rouge2": 10.2, "eval_rougeL": 25.3, "eval_rougeLsum": 26.0},
            {"source_column": "dialogue", "target_column": "summary"},
            "summarization",
            "Summarization",
            ["rouge"],
            {"rouge1": "ROUGE-1", "rougeL": "ROUGE-L", "rougeLsum": "ROUGE-Lsum"},
        ),
        (
            "seq2seq",
            {"eval_loss": 2.0, "eval_bleu": 31.0, "eval_chrf": 55.0},
            {"source_lang": "en", "target_lang": "de"},
            "translation",
            "Translation",
            ["bleu", "chrf"],
            {"bleu": "BLEU", "chrf": "chrF"},
        ),
    ],
)
def test_the_card_takes_the_task_of_the_run(tmp_path, head, metrics, data, tag, task_name, metric_ids, titles):
    run_dir = write_run_folder(tmp_path / "runs")
    retarget(run_dir, head, metrics, **data)
    card = card_of(run_dir)
    assert card.data.pipeline_tag == tag and card.data.library_name == "transformers"
    assert card.data.metrics == metric_ids
    results = card.data.eval_results
    assert {r.task_type for r in results} == {tag} and {r.task_name for r in results} == {task_name}
    named = {r.metric_type: r.metric_name for r in results}
    assert set(named) == {key.removeprefix("eval_") for key in metrics if key != "eval_loss"}
    for metric, title in titles.items():
        assert named[metric] == title
        assert f"- {title}: " in card.text
    assert f'pipeline("{tag}", model="alice/model")' in card.text


def test_sequence_classification_keeps_its_card(run_dir):
    card = card_of(run_dir)
    assert card.data.pipeline_tag == "text-classification" and card.data.metrics == ["accuracy", "f1"]
    assert card.data.eval_results[0].task_name == "Text Classification"


def write_adapter_final(final, base: str, task_type: str = "SEQ_CLS") -> None:
    for path in final.iterdir():
        if path.name in ("config.json", "model.safetensors"):
            path.unlink()
    adapter = {
        "peft_type": "LORA",
        "task_type": task_type,
        "r": 4,
        "lora_alpha": 8,
        "target_modules": ["value", "query"],
    }
    (final / "adapter_config.json").write_text(json.dumps({**adapter, "base_model_name_or_path": base}))
    (final / "adapter_model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    head = {
        "model_type": "bert",
        "architectures": ["BertForSequenceClassification"],
        "id2label": {"0": "no", "1": "yes"},
    }
    (final / "head_config.json").write_text(json.dumps(head))


def test_an_adapter_run_card_is_a_peft_card_naming_its_base(run_dir):
    spec = tomllib.loads((run_dir / "spec.toml").read_text())
    spec["model"]["lora"] = {"r": 4}
    (run_dir / "spec.toml").write_text(tomli_w.dumps(spec))
    write_adapter_final(run_dir / "final", "google-bert/bert-base-uncased")
    card = card_of(run_dir, "alice/bert-mrpc-lora")
    assert card.data.library_name == "peft" and card.data.base_model == "google-bert/bert-base-uncased"
    assert card.data.pipeline_tag == "text-classification" and "lora" in card.data.tags
    assert "This is a LoRA adapter (peft) for [google-bert/bert-base-uncased]" in card.text
    assert "rank r=4, on `query`, `value`" in card.text
    assert "Text Classification into 2 labels: no, yes." in card.text
    assert (
        'base = AutoModelForSequenceClassification.from_pretrained("google-bert/bert-base-uncased",'
        " num_labels=2, id2label={0: 'no', 1: 'yes'})" in card.text
    )
    assert 'model = PeftModel.from_pretrained(base, "alice/bert-mrpc-lora")' in card.text
    assert "pipeline(" not in card.text
    assert {r.metric_type: r.metric_value for r in card.data.eval_results} == {"accuracy": 0.8333, "f1": 0.8815}


def test_an_adapter_over_the_embedded_model_names_the_hub_id(run_dir):
    write_adapter_final(run_dir / "final", "sentence-transformers/all-MiniLM-L6-v2")
    facts = card_facts(resolve_source(run_dir))
    assert facts.base_model == "sentence-transformers/all-MiniLM-L6-v2" and facts.license == "apache-2.0"


def test_an_adapter_folder_outside_a_run_gets_its_task_from_the_adapter(tmp_path, model_folder):
    write_adapter_final(model_folder, "gpt2", task_type="CAUSAL_LM")
    card = card_of(model_folder)
    assert card.data.library_name == "peft" and card.data.base_model == "gpt2"
    assert card.data.pipeline_tag == "text-generation"
    assert "This is a LoRA adapter (peft) for [gpt2]" in card.text


def test_pushing_an_adapter_run_uploads_the_adapter_and_its_peft_card(hub, monkeypatch, capsys, run_dir):
    from huggingface_hub import ModelCard

    from tests.hub.fake_hub import WRITE_TOKEN
    from workbench.cli import main

    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    write_adapter_final(run_dir / "final", "google-bert/bert-base-uncased")
    assert main(["push", str(run_dir), "--repo", "alice/bert-lora", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"]
    files = hub.repo("alice/bert-lora").head("main").files
    assert {"README.md", "adapter_config.json", "adapter_model.safetensors", "head_config.json"} <= set(files)
    assert "config.json" not in files and "model.safetensors" not in files
    card = ModelCard(hub.file("alice/bert-lora", "README.md").decode())
    assert card.data.library_name == "peft" and card.data.base_model == "google-bert/bert-base-uncased"
    assert 'PeftModel.from_pretrained(base, "alice/bert-lora")' in card.text


def test_a_classification_card_carries_the_confusion_matrix_of_the_kept_predictions(run_dir):
    from workbench.core.runs import predictions
    from workbench.core.runs.protocol import Evaluation, EventWriter

    records = {
        "id": list(range(6)),
        "input": ["a"] * 6,
        "gold": ["no", "no", "no", "yes", "yes", "yes"],
        "predicted": ["no", "no", "yes", "yes", "yes", "no"],
        "score": [0.9] * 6,
        "loss": [0.1] * 6,
    }
    path = predictions.write(run_dir, 40, records, keep=3)
    writer = EventWriter(run_dir / "events.jsonl")
    writer.emit(Evaluation(step=40, epoch=1.0, metrics={"eval_loss": 0.5}, predictions=str(path.relative_to(run_dir))))
    writer.close()
    text = str(card_of(run_dir))
    assert "Confusion matrix (gold in rows, predicted in columns)" in text
    assert "gold \\ predicted  no  yes" in text
    assert "| yes | 0.6667 | 0.6667 | 0.6667 | 3 |" in text  # per class: 2 of 3 right each way
