"""The playground: run a loaded model on text and postprocess the output like the course does."""

from __future__ import annotations

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


def predict(loaded: LoadedModel, inputs: PlaygroundInput) -> Prediction:
    import torch

    head = loaded.options.head.key
    validate(head, inputs)
    if loaded.tokenizer is None:
        raise WorkbenchError(f"{loaded.info.name} has no tokenizer, so it cannot read text.")
    runner = _RUNNERS[head]
    torch.manual_seed(inputs.seed)
    with torch.no_grad():
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


def _entity(label: str) -> tuple[str, str]:
    """("B", "PER") from "B-PER"; ("", label) when there is no BIO prefix."""
    if len(label) > 2 and label[1] == "-" and label[0] in "BIES":
        return label[0], label[2:]
    return "", label


def _run_token_classification(loaded: LoadedModel, inputs: PlaygroundInput) -> Prediction:
    encoded = _encode(loaded, inputs.text, return_offsets_mapping=True)
    offsets = encoded.pop("offset_mapping")[0].tolist()
    logits = loaded.model(**encoded).logits
    probabilities = logits.softmax(-1)[0]
    scores, indices = probabilities.max(-1)
    special = loaded.tokenizer.get_special_tokens_mask(
        encoded["input_ids"][0].tolist(), already_has_special_tokens=True
    )
    tokens = loaded.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
    rows, spans = [], []
    for position, token in enumerate(tokens):
        if special[position]:
            continue
        label = _label(loaded, int(indices[position]))
        score = float(scores[position])
        start, end = offsets[position]
        rows.append({"token": token, "label": label, "score": round(score, 4), "start": start, "end": end})
        prefix, entity = _entity(label)
        if label == "O":
            continue
        current = spans[-1] if spans else None
        continues = current and current["label"] == entity and prefix != "B" and current["_next"] == position
        if continues:
            current["end"] = end
            current["_scores"].append(score)
            current["_next"] = position + 1
        else:
            spans.append({"label": entity, "start": start, "end": end, "_scores": [score], "_next": position + 1})
    for span in spans:
        scores_of_span = span.pop("_scores")
        span.pop("_next")
        span["text"] = inputs.text[span["start"] : span["end"]]
        span["score"] = round(sum(scores_of_span) / len(scores_of_span), 4)
    return Prediction("token-classification", [_raw("logits", logits)], {"tokens": rows, "spans": spans})


def _run_question_answering(loaded: LoadedModel, inputs: PlaygroundInput, max_answer_tokens: int = 30) -> Prediction:
    encoded = _encode(loaded, inputs.text, inputs.context, return_offsets_mapping=True)
    offsets = encoded.pop("offset_mapping")[0].tolist()
    sequence_ids = encoded.sequence_ids(0)
    outputs = loaded.model(**encoded)
    start_probs = outputs.start_logits.softmax(-1)[0]
    end_probs = outputs.end_logits.softmax(-1)[0]
    context_positions = [index for index, sequence in enumerate(sequence_ids) if sequence == 1]
    if not context_positions:
        raise WorkbenchError("The question fills the whole input; no room was left for the context.")
    best = (0.0, context_positions[0], context_positions[0])
    for start in context_positions:
        for end in context_positions:
            if start <= end < start + max_answer_tokens:
                score = float(start_probs[start] * end_probs[end])
                if score > best[0]:
                    best = (score, start, end)
    score, start, end = best
    char_start, char_end = offsets[start][0], offsets[end][1]
    return Prediction(
        "question-answering",
        [_raw("start_logits", outputs.start_logits), _raw("end_logits", outputs.end_logits)],
        {
            "answer": inputs.context[char_start:char_end],
            "score": round(score, 4),
            "start": char_start,
            "end": char_end,
            "start_token": start,
            "end_token": end,
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


def _generate(loaded: LoadedModel, inputs: PlaygroundInput, head: str) -> Prediction:
    tokenizer = loaded.tokenizer
    encoded = _encode(loaded, inputs.text)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    options = {
        "max_new_tokens": inputs.max_new_tokens,
        "pad_token_id": pad if pad is not None else 0,
        "return_dict_in_generate": True,
        "output_logits": True,
    }
    if inputs.temperature > 0:
        options.update(do_sample=True, temperature=inputs.temperature, top_p=inputs.top_p)
    else:
        options.update(do_sample=False)
    model_inputs = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}
    output = loaded.model.generate(**model_inputs, **options)
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
