"""The demo answers through gradio_client, per task, with the model's own label names."""

from __future__ import annotations

import pytest

from tests.demo.conftest import NER_LABELS, SENTIMENT_LABELS, VALIDATION_ROWS
from workbench.core.demo.answers import Answerer
from workbench.core.demo.target import DemoTarget, head_from_config, load_target, resolve_target

pytest.importorskip("gradio", reason="the demo extra: pip install -e '.[demo]'")


def _confidences(label_output: dict) -> dict[str, float]:
    return {item["label"]: item["confidence"] for item in label_output["confidences"]}


def test_sequence_classification_on_the_embedded_model(served):
    target = resolve_target("embedded")
    assert target.head == "sequence-classification"
    assert any("random" in note for note in target.notes)  # a base model: the new head is said to be random
    loaded = load_target(target, "neg, pos")
    _, client = served(target, loaded)

    output = client.predict("I love this course.", api_name="/predict")

    confidences = _confidences(output)
    assert set(confidences) == {"neg", "pos"}
    assert sum(confidences.values()) == pytest.approx(1.0, abs=1e-3)
    assert output["label"] == max(confidences, key=confidences.get)
    # The same numbers as the Models playground's inference.
    expected = Answerer(loaded).classify("I love this course.")
    assert confidences == pytest.approx(expected, abs=1e-4)


def test_token_classification_highlights_entities_with_the_config_labels(served, tiny):
    target = resolve_target(str(tiny["ner"]))
    assert target.head == "token-classification"  # from config.architectures
    loaded = load_target(target)
    assert loaded.id2label == NER_LABELS
    _, client = served(target, loaded)

    text = "Sylvain works at Hugging Face"
    output = client.predict(text, api_name="/predict")

    # Every token is I-PER, so the spans merge into one PER entity covering the words.
    chunks = [(item["token"], item["class_or_confidence"]) for item in output]
    assert "".join(token for token, _ in chunks) == text
    assert [label for _, label in chunks if label] == ["PER"]
    assert [token for token, label in chunks if label] == [text]


def test_question_answering_takes_a_question_and_a_context(served, tiny):
    target = resolve_target(str(tiny["qa"]))
    assert target.head == "question-answering"
    assert target.input_names == ["question", "context"]
    loaded = load_target(target)
    _, client = served(target, loaded)

    context = "The workbench was written in Brooklyn by a small team."
    answer, marked = client.predict("Where was it written?", context, api_name="/predict")

    assert answer and answer in context
    labelled = [item for item in marked if item["class_or_confidence"]]
    assert [item["token"] for item in labelled] == [answer]
    assert labelled[0]["class_or_confidence"].startswith("answer ")
    assert "".join(item["token"] for item in marked) == context


def test_fill_mask_returns_the_top_k(served, tiny):
    target = resolve_target(str(tiny["mlm"]))
    assert target.head == "masked-lm"
    _, client = served(target, load_target(target))

    output = client.predict("Paris is the [MASK] of France.", api_name="/predict")

    scores = [item["confidence"] for item in output["confidences"]]
    assert len(scores) == 5
    assert scores == sorted(scores, reverse=True)


def test_bad_input_is_one_line_on_the_page_not_a_traceback(served, tiny):
    from gradio_client.exceptions import AppError

    target = resolve_target(str(tiny["mlm"]))
    _, client = served(target, load_target(target))

    with pytest.raises(AppError) as error:
        client.predict("No mask in this sentence.", api_name="/predict")
    assert "[MASK]" in str(error.value) and "Traceback" not in str(error.value)


def test_generation_streams_the_text_as_it_grows(served, tiny):
    from workbench.core.models.inference import PlaygroundInput, predict

    target = resolve_target(str(tiny["gpt2"]))
    assert target.head == "causal-lm"
    loaded = load_target(target)

    partials = list(Answerer(loaded).generate("Once upon a time", 8, 0.0))
    assert len(partials) >= 2
    assert all(later.startswith(earlier) for earlier, later in zip(partials, partials[1:]))
    greedy = predict(loaded, PlaygroundInput(text="Once upon a time", max_new_tokens=8, temperature=0)).result
    assert partials[-1].strip() == greedy["generated"].strip()

    _, client = served(target, loaded)
    job = client.submit("Once upon a time", 8, 0.0, api_name="/predict")
    assert job.result().strip() == partials[-1].strip()


def test_seq2seq_streams_what_greedy_generation_gives(tiny):
    from workbench.core.models.inference import PlaygroundInput, predict

    target = resolve_target(str(tiny["t5"]))
    assert target.head == "seq2seq-lm"  # T5ForConditionalGeneration, is_encoder_decoder
    loaded = load_target(target)

    partials = list(Answerer(loaded).generate("translate: the cat", 6, 0.0))
    greedy = predict(loaded, PlaygroundInput(text="translate: the cat", max_new_tokens=6, temperature=0)).result
    assert partials[-1].strip() == greedy["generated"].strip()


def test_a_run_folder_serves_its_final_model_with_validation_examples(served, run_folder):
    target = resolve_target(str(run_folder))
    assert target.run_dir == run_folder
    assert target.model_path == run_folder / "final"
    assert target.name == f"run {run_folder.name}"
    assert target.examples == [[text] for text, _ in VALIDATION_ROWS]
    # ... found by its id too, in the runs directory
    assert resolve_target(run_folder.name[-4:], runs_directory=run_folder.parent).run_dir == run_folder

    loaded = load_target(target)
    server, client = served(target, loaded)
    output = client.predict(VALIDATION_ROWS[0][0], api_name="/predict")
    assert set(_confidences(output)) == set(SENTIMENT_LABELS.values())
    config = client.config  # the page: examples from the validation data, under their heading
    texts = str(config)
    assert "From the validation data" in texts and "A gripping, funny film." in texts


def test_a_run_without_a_final_model_is_refused_with_what_to_do(run_folder):
    import shutil

    from workbench.core.errors import WorkbenchError

    shutil.rmtree(run_folder / "final")
    with pytest.raises(WorkbenchError, match="no final model yet"):
        resolve_target(str(run_folder))


@pytest.mark.parametrize(
    ("config", "head"),
    [
        ({"architectures": ["BertForSequenceClassification"]}, "sequence-classification"),
        ({"architectures": ["RobertaForTokenClassification"]}, "token-classification"),
        ({"architectures": ["GPT2LMHeadModel"]}, "causal-lm"),
        ({"architectures": ["T5ForConditionalGeneration"], "is_encoder_decoder": True}, "seq2seq-lm"),
        ({"architectures": ["BertModel"]}, None),
        ({}, None),
    ],
)
def test_the_task_comes_from_the_architectures(config, head):
    assert head_from_config(config) == head


def test_an_unknown_head_is_refused(tiny):
    from workbench.core.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="cannot serve a 'multiple-choice' head"):
        resolve_target(str(tiny["sentiment"]), head="multiple-choice")
    assert DemoTarget(tiny["qa"], "qa", "question-answering").input_names == ["question", "context"]


def test_a_cached_hub_model_wins_over_a_part_of_a_run_id(run_folder, tiny, monkeypatch):
    """Run ids contain model names: `workbench demo minilm` is the cached model `minilm` when there is one."""
    from workbench.core.models import catalog

    runs = run_folder.parent
    assert resolve_target("minilm", runs_directory=runs).run_dir == run_folder  # no such cached model: the run
    entry = catalog.CatalogEntry("minilm", "cache", str(tiny["mlm"]), "HF cache")
    monkeypatch.setattr(catalog, "cached_models", lambda cache_dir=None: [entry])
    target = resolve_target("minilm", runs_directory=runs)
    assert target.run_dir is None and target.model_path == tiny["mlm"] and target.head == "masked-lm"
    assert resolve_target(run_folder.name, runs_directory=runs).run_dir == run_folder  # a whole id: the run
