""" "Show code": the Python that reproduces what the pane did, with transformers alone."""

from __future__ import annotations

from workbench.core.models.inference import PlaygroundInput

_IMPORTS = "import torch\nfrom transformers import AutoTokenizer, {auto_class}\n"


def code_for(
    location: str,
    head_key: str,
    auto_class: str,
    inputs: PlaygroundInput,
    *,
    id2label: dict[int, str] | None = None,
    fresh_head: bool = False,
    trust_remote_code: bool = False,
) -> str:
    load_options = []
    if id2label:
        load_options.append(f"id2label={ {int(k): v for k, v in id2label.items()}!r}")
        load_options.append(f"label2id={ {v: int(k) for k, v in id2label.items()}!r}")
        load_options.append(f"num_labels={len(id2label)}")
    if fresh_head:
        load_options.append("ignore_mismatched_sizes=True")
    if trust_remote_code:
        load_options.append("trust_remote_code=True  # you opted in: this runs the checkpoint's code")
    options = "".join(f",\n    {option}" for option in load_options)
    lines = [
        _IMPORTS.format(auto_class=auto_class),
        f"checkpoint = {location!r}",
        "tokenizer = AutoTokenizer.from_pretrained(checkpoint)",
        f"model = {auto_class}.from_pretrained(\n    checkpoint{options},\n)",
        "model.eval()",
        "",
    ]
    lines += _BODIES[head_key](inputs)
    return "\n".join(lines).rstrip() + "\n"


def _base(inputs: PlaygroundInput) -> list[str]:
    return [
        f"inputs = tokenizer({inputs.text!r}, return_tensors='pt')",
        "with torch.no_grad():",
        "    hidden = model(**inputs).last_hidden_state  # [batch, tokens, hidden]",
        "mask = inputs['attention_mask'].unsqueeze(-1).float()",
        "embedding = (hidden * mask).sum(1) / mask.sum(1)  # mean pooling",
        "print(hidden.shape, embedding[0, :8])",
    ]


def _sequence_classification(inputs: PlaygroundInput) -> list[str]:
    args = f"{inputs.text!r}, {inputs.pair!r}" if inputs.pair else f"{inputs.text!r}"
    return [
        f"inputs = tokenizer({args}, return_tensors='pt', truncation=True)",
        "with torch.no_grad():",
        "    logits = model(**inputs).logits  # [1, num_labels]",
        "probabilities = logits.softmax(dim=-1)[0]",
        "for index, probability in enumerate(probabilities.tolist()):",
        "    print(f'{model.config.id2label[index]:>12} {probability:.4f}')",
    ]


def _token_classification(inputs: PlaygroundInput) -> list[str]:
    return [
        f"text = {inputs.text!r}",
        "inputs = tokenizer(text, return_tensors='pt', return_offsets_mapping=True, truncation=True)",
        "offsets = inputs.pop('offset_mapping')[0].tolist()",
        "with torch.no_grad():",
        "    logits = model(**inputs).logits  # [1, tokens, num_labels]",
        "scores, labels = logits.softmax(dim=-1)[0].max(dim=-1)",
        "tokens = tokenizer.convert_ids_to_tokens(inputs['input_ids'][0])",
        "for token, (start, end), label, score in zip(tokens, offsets, labels.tolist(), scores.tolist()):",
        "    if start == end:  # special tokens",
        "        continue",
        "    print(f'{text[start:end]:>15} {model.config.id2label[label]:>10} {score:.3f}')",
    ]


def _question_answering(inputs: PlaygroundInput) -> list[str]:
    return [
        f"question = {inputs.text!r}",
        f"context = {inputs.context!r}",
        "inputs = tokenizer(question, context, return_tensors='pt', return_offsets_mapping=True, truncation=True)",
        "offsets = inputs.pop('offset_mapping')[0].tolist()",
        "in_context = [i for i, s in enumerate(inputs.sequence_ids(0)) if s == 1]",
        "with torch.no_grad():",
        "    outputs = model(**inputs)",
        "start_probs = outputs.start_logits.softmax(-1)[0]",
        "end_probs = outputs.end_logits.softmax(-1)[0]",
        "score, start, end = max(",
        "    (float(start_probs[s] * end_probs[e]), s, e)",
        "    for s in in_context for e in in_context if s <= e < s + 30",
        ")",
        "print(repr(context[offsets[start][0]:offsets[end][1]]), round(score, 4))",
    ]


def _multiple_choice(inputs: PlaygroundInput) -> list[str]:
    return [
        f"prompt = {inputs.text!r}",
        f"choices = {list(inputs.choices)!r}",
        "inputs = tokenizer([prompt] * len(choices), choices, return_tensors='pt', padding=True)",
        "with torch.no_grad():",
        "    logits = model(**{k: v.unsqueeze(0) for k, v in inputs.items()}).logits  # [1, choices]",
        "for choice, probability in zip(choices, logits.softmax(-1)[0].tolist()):",
        "    print(f'{probability:.4f} {choice}')",
    ]


def _masked_lm(inputs: PlaygroundInput) -> list[str]:
    return [
        f"text = {inputs.text!r}.replace('[MASK]', tokenizer.mask_token)",
        "inputs = tokenizer(text, return_tensors='pt')",
        "with torch.no_grad():",
        "    logits = model(**inputs).logits  # [1, tokens, vocab]",
        "position = (inputs['input_ids'][0] == tokenizer.mask_token_id).nonzero()[0, 0]",
        f"scores, ids = logits[0, position].softmax(-1).topk({inputs.top_k})",
        "for score, token_id in zip(scores.tolist(), ids.tolist()):",
        "    print(f'{score:.4f} {tokenizer.decode([token_id])}')",
    ]


def _generate(inputs: PlaygroundInput, seq2seq: bool) -> list[str]:
    sampling = (
        f"do_sample=True, temperature={inputs.temperature}, top_p={inputs.top_p}"
        if inputs.temperature > 0
        else "do_sample=False"
    )
    new_tokens = "output[0, 1:]" if seq2seq else "output[0, inputs['input_ids'].shape[1]:]"
    return [
        f"torch.manual_seed({inputs.seed})",
        f"inputs = tokenizer({inputs.text!r}, return_tensors='pt')",
        "with torch.no_grad():",
        "    output = model.generate(",
        "        input_ids=inputs['input_ids'], attention_mask=inputs['attention_mask'],",
        f"        max_new_tokens={inputs.max_new_tokens}, {sampling},",
        "    )",
        f"print(tokenizer.decode({new_tokens}, skip_special_tokens=True))",
    ]


_BODIES = {
    "base": _base,
    "sequence-classification": _sequence_classification,
    "token-classification": _token_classification,
    "question-answering": _question_answering,
    "multiple-choice": _multiple_choice,
    "masked-lm": _masked_lm,
    "causal-lm": lambda inputs: _generate(inputs, seq2seq=False),
    "seq2seq-lm": lambda inputs: _generate(inputs, seq2seq=True),
}
