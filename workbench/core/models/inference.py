"""The playground: run a loaded model on text and postprocess the output like the course does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from workbench.core.errors import WorkbenchError
from workbench.core.models.loading import LoadedModel

MASK_SPELLINGS = ("[MASK]", "<mask>", "[mask]")


@dataclass(frozen=True)
class PlaygroundInput:
    text: str = ""
    pair: str | None = None  # a second sentence for sequence classification
    context: str = ""  # question answering: `text` is the question
    choices: tuple[str, ...] = ()  # multiple choice: `text` is the prompt
    top_k: int = 5
    max_new_tokens: int = 20
    temperature: float = 1.0  # 0 = greedy
    top_p: float = 1.0
    seed: int = 0
    aggregation: str = "simple"  # token classification: the pipeline's aggregation_strategy


@dataclass
class Prediction:
    head: str
    raw: list[tuple[str, list[int], str]] = field(default_factory=list)  # name, shape, preview
    result: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "head": self.head,
            "raw": [{"name": name, "shape": shape, "preview": preview} for name, shape, preview in self.raw],
            "result": self.result,
        }


def _preview(tensor, count: int = 6) -> str:
    values = tensor.flatten()[:count].tolist()
    more = " …" if tensor.numel() > count else ""
    return "[" + ", ".join(f"{value:.4f}" for value in values) + more + "]"


def _raw(name: str, tensor) -> tuple[str, list[int], str]:
    return name, list(tensor.shape), _preview(tensor.float())


def validate(head: str, inputs: PlaygroundInput) -> None:
    """Clear messages for playground input that cannot work."""
    if not inputs.text.strip():
        what = {"question-answering": "a question", "multiple-choice": "a prompt"}.get(head, "some text")
        raise WorkbenchError(f"Type {what} first.")
    if head == "question-answering" and not inputs.context.strip():
        raise WorkbenchError("Question answering needs a context: the passage the answer is taken from.")
    if head == "multiple-choice" and len([c for c in inputs.choices if c.strip()]) < 2:
        raise WorkbenchError("Multiple choice needs at least two choices (one per line, or --choice twice).")
    if not 1 <= inputs.top_k <= 100:
        raise WorkbenchError(f"top-k must be between 1 and 100, not {inputs.top_k}.")
    if not 1 <= inputs.max_new_tokens <= 2048:
        raise WorkbenchError(f"max new tokens must be between 1 and 2048, not {inputs.max_new_tokens}.")
    if not 0 <= inputs.temperature <= 10:
        raise WorkbenchError(f"temperature must be between 0 and 10, not {inputs.temperature}.")
    if not 0 < inputs.top_p <= 1:
        raise WorkbenchError(f"top-p must be in (0, 1], not {inputs.top_p}.")


def predict(loaded: LoadedModel, inputs: PlaygroundInput, on_text=None) -> Prediction:
    """Run the head on the inputs. Generating heads call `on_text(text so far)` as tokens come."""
    import torch

    head = loaded.options.head.key
    validate(head, inputs)
    if loaded.tokenizer is None:
        raise WorkbenchError(f"{loaded.info.name} has no tokenizer, so it cannot read text.")
    runner = _RUNNERS[head]
    torch.manual_seed(inputs.seed)
    with torch.no_grad():
        if on_text is not None and head in ("causal-lm", "seq2seq-lm"):
            return _generate(loaded, inputs, head, on_text=on_text)
        return runner(loaded, inputs)


def _max_length(loaded: LoadedModel) -> int:
    limit = getattr(loaded.model.config, "max_position_embeddings", None) or 512
    return min(int(loaded.tokenizer.model_max_length or limit), int(limit))


def _encode(loaded: LoadedModel, *texts, **options):
    return loaded.tokenizer(*texts, return_tensors="pt", truncation=True, max_length=_max_length(loaded), **options)


def _label(loaded: LoadedModel, index: int) -> str:
    return loaded.id2label.get(index, f"LABEL_{index}")


def _run_base(loaded: LoadedModel, inputs: PlaygroundInput) -> Prediction:
    encoded = _encode(loaded, inputs.text)
    if loaded.model.config.is_encoder_decoder:
        outputs = loaded.model.get_encoder()(**encoded)
    else:
        outputs = loaded.model(**encoded)
    hidden = outputs.last_hidden_state
    mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return Prediction(
        "base",
        [_raw("last_hidden_state", hidden), _raw("mean_pooled", pooled)],
        {
            "tokens": int(hidden.shape[1]),
            "hidden_size": int(hidden.shape[-1]),
            "mean_pooled": [round(value, 4) for value in pooled[0, :8].tolist()],
            "norm": round(float(pooled.norm()), 4),
        },
    )


def _run_sequence_classification(loaded: LoadedModel, inputs: PlaygroundInput) -> Prediction:
    encoded = _encode(loaded, inputs.text, inputs.pair) if inputs.pair else _encode(loaded, inputs.text)
    logits = loaded.model(**encoded).logits
    probabilities = logits.softmax(-1)[0]
    labels = [
        {"label": _label(loaded, index), "score": round(float(score), 4)} for index, score in enumerate(probabilities)
    ]
    labels.sort(key=lambda item: -item["score"])
    return Prediction(
        "sequence-classification", [_raw("logits", logits), _raw("softmax", probabilities[None])], {"labels": labels}
    )


def _run_token_classification(loaded: LoadedModel, inputs: PlaygroundInput) -> Prediction:
    from workbench.core.tasks.token_classification import group_entities

    encoded = _encode(loaded, inputs.text, return_offsets_mapping=True, return_special_tokens_mask=True)
    offsets = encoded.pop("offset_mapping")[0].tolist()
    special = encoded.pop("special_tokens_mask")[0].tolist()
    logits = loaded.model(**encoded).logits
    scores, indices = logits.softmax(-1)[0].max(-1)
    ids = encoded["input_ids"][0].tolist()
    tokens = loaded.tokenizer.convert_ids_to_tokens(ids)
    rows = [
        {
            "token": token,
            "label": _label(loaded, int(indices[position])),
            "score": round(float(scores[position]), 4),
            "start": offsets[position][0],
            "end": offsets[position][1],
        }
        for position, token in enumerate(tokens)
        if not special[position]
    ]
    id2label = {index: _label(loaded, index) for index in range(logits.shape[-1])}
    # Grouped as transformers' TokenClassificationPipeline groups them (aggregation_strategy).
    entities = group_entities(
        inputs.text, loaded.tokenizer, ids, offsets, special, logits[0], id2label, inputs.aggregation
    )
    spans = [
        {
            "label": entity["entity_group"],
            "start": entity["start"],
            "end": entity["end"],
            "text": inputs.text[entity["start"] : entity["end"]],
            "score": round(entity["score"], 4),
        }
        for entity in entities
    ]
    result = {
        "tokens": rows,
        "spans": spans,
        "entities": [{"type": entity["entity_group"], **entity} for entity in entities],
        "aggregation": inputs.aggregation,
    }
    return Prediction("token-classification", [_raw("logits", logits)], result)


def _run_question_answering(loaded: LoadedModel, inputs: PlaygroundInput, max_answer_tokens: int = 15) -> Prediction:
    """As transformers' QuestionAnsweringPipeline answers (core/tasks/question_answering.answer_question)."""
    from workbench.core.tasks.question_answering import answer_question

    found = answer_question(
        loaded.tokenizer, loaded.model, inputs.text, inputs.context, max_answer_len=max_answer_tokens
    )
    best = found.answers[0] if found.answers else {"answer": "", "score": 0.0, "start": 0, "end": 0}
    start_logits, end_logits = found.first_window_logits
    return Prediction(
        "question-answering",
        [_raw("start_logits", start_logits), _raw("end_logits", end_logits)],
        {
            "answer": best["answer"],
            "score": best["score"],
            "start": best["start"],
            "end": best["end"],
            "start_token": found.best_tokens[0],
            "end_token": found.best_tokens[1],
            "window": found.best_window,
            "windows": found.windows,
        },
    )


def _run_multiple_choice(loaded: LoadedModel, inputs: PlaygroundInput) -> Prediction:
    choices = [choice for choice in inputs.choices if choice.strip()]
    encoded = _encode(loaded, [inputs.text] * len(choices), choices, padding=True)
    logits = loaded.model(**{key: value.unsqueeze(0) for key, value in encoded.items()}).logits
    probabilities = logits.softmax(-1)[0]
    ranked = [{"choice": choice, "score": round(float(score), 4)} for choice, score in zip(choices, probabilities)]
    return Prediction(
        "multiple-choice", [_raw("logits", logits)], {"choices": ranked, "best": int(probabilities.argmax())}
    )


def _run_masked_lm(loaded: LoadedModel, inputs: PlaygroundInput) -> Prediction:
    tokenizer = loaded.tokenizer
    mask = tokenizer.mask_token
    if mask is None:
        raise WorkbenchError(f"The tokenizer of {loaded.info.name} has no mask token, so fill-mask cannot work.")
    text = inputs.text
    for spelling in MASK_SPELLINGS:
        text = text.replace(spelling, mask)
    if mask not in text:
        raise WorkbenchError(f"Put {mask} where a word should be predicted, e.g. 'Paris is the {mask} of France.'")
    encoded = _encode(loaded, text)
    logits = loaded.model(**encoded).logits
    positions = (encoded["input_ids"][0] == tokenizer.mask_token_id).nonzero().flatten().tolist()
    masks = []
    for position in positions:
        probabilities = logits[0, position].softmax(-1)
        scores, ids = probabilities.topk(inputs.top_k)
        candidates = []
        for score, token_id in zip(scores.tolist(), ids.tolist()):
            token = tokenizer.decode([token_id]).strip()
            candidates.append({"token": token, "score": round(score, 4), "sequence": text.replace(mask, token, 1)})
        masks.append({"position": position, "candidates": candidates})
    return Prediction("masked-lm", [_raw("logits", logits)], {"masks": masks, "all_new": loaded.report.head_all_new})


def generation_options(tokenizer, inputs: PlaygroundInput) -> dict:
    """generate()'s length, padding and sampling settings for the playground's knobs (0 = greedy)."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    options = {"max_new_tokens": inputs.max_new_tokens, "pad_token_id": pad if pad is not None else 0}
    if inputs.temperature > 0:
        options.update(do_sample=True, temperature=inputs.temperature, top_p=inputs.top_p)
    else:
        options.update(do_sample=False)
    return options


def stream_generate(model, tokenizer, options: dict, result: dict) -> Iterator[str]:
    """generate() in a thread with a TextIteratorStreamer: yields the text generated so far as tokens
    come; once it ends, `result["output"]` holds generate()'s return value. A failure inside generate()
    is raised here, in the caller's thread."""
    import threading

    import torch

    from workbench.core.lazy_imports import transformers_module

    streamer = transformers_module().TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)

    def run() -> None:
        try:
            with torch.no_grad():
                result["output"] = model.generate(**options, streamer=streamer)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread below
            result["error"] = error
            streamer.end()

    thread = threading.Thread(target=run, name="generate", daemon=True)
    thread.start()
    text = ""
    for piece in streamer:
        text += piece
        yield text
    thread.join()
    if "error" in result:
        raise result["error"]


def _generate(loaded: LoadedModel, inputs: PlaygroundInput, head: str, on_text=None) -> Prediction:
    tokenizer = loaded.tokenizer
    encoded = _encode(loaded, inputs.text)
    options = {
        "input_ids": encoded["input_ids"],
        "attention_mask": encoded["attention_mask"],
        **generation_options(tokenizer, inputs),
        "return_dict_in_generate": True,
        "output_logits": True,
    }
    if on_text is None:
        output = loaded.model.generate(**options)
    else:
        result: dict = {}
        for text in stream_generate(loaded.model, tokenizer, options, result):
            on_text(text)
        output = result["output"]
    sequences = output.sequences
    # A seq2seq output starts with the decoder start token; a causal one repeats the prompt.
    new_tokens = sequences[0, 1:] if head == "seq2seq-lm" else sequences[0, encoded["input_ids"].shape[1] :]
    generated = tokenizer.decode(new_tokens, skip_special_tokens=True)
    raw = [("sequences", list(sequences.shape), str(sequences[0, :12].tolist()))]
    logits = getattr(output, "logits", None)
    if logits:
        raw.append((f"logits (x{len(logits)} steps)", list(logits[0].shape), _preview(logits[0].float())))
    return Prediction(
        head,
        raw,
        {
            "generated": generated,
            "new_tokens": int(len(new_tokens)),
            "sampling": "greedy"
            if inputs.temperature == 0
            else f"temperature {inputs.temperature}, top-p {inputs.top_p}",
        },
    )


_RUNNERS = {
    "base": _run_base,
    "sequence-classification": _run_sequence_classification,
    "token-classification": _run_token_classification,
    "question-answering": _run_question_answering,
    "multiple-choice": _run_multiple_choice,
    "masked-lm": _run_masked_lm,
    "causal-lm": lambda loaded, inputs: _generate(loaded, inputs, "causal-lm"),
    "seq2seq-lm": lambda loaded, inputs: _generate(loaded, inputs, "seq2seq-lm"),
}
