"""`workbench demo --export DIR`: a standalone Gradio app (app.py, requirements.txt, README.md, model/).

The app needs neither workbench nor the run folder: the model (with its head and label names) is saved
into DIR/model, and app.py uses only gradio, torch and transformers, so DIR can be pushed as a Space
(README.md carries the Space's `sdk: gradio` header).
"""

from __future__ import annotations

from pathlib import Path

from workbench.core.demo.target import DemoTarget
from workbench.core.errors import WorkbenchError

AUTO_CLASSES = {
    "sequence-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "masked-lm": "AutoModelForMaskedLM",
    "causal-lm": "AutoModelForCausalLM",
    "seq2seq-lm": "AutoModelForSeq2SeqLM",
}

APP_TEMPLATE = '''"""A Gradio demo of {name} ({task}), written by `workbench demo --export`.

Runs on its own: `pip install -r requirements.txt && python app.py` (or push this folder as a Space).
It binds 127.0.0.1 unless GRADIO_SERVER_NAME says otherwise (a Space sets it).
"""

import threading
from pathlib import Path

import gradio as gr
import torch
from transformers import AutoTokenizer, TextIteratorStreamer, {auto_class}

TASK = {task!r}
TITLE = {title!r}
PAIR = {pair!r}
EXAMPLES = {examples!r}
MODEL_DIR = Path(__file__).resolve().parent / "model"

tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)
model = {auto_class}.from_pretrained(MODEL_DIR).eval()
LABELS = {{int(key): str(value) for key, value in (model.config.id2label or {{}}).items()}}
lock = threading.Lock()


def encode(*texts, **options):
    return tokenizer(*texts, return_tensors="pt", truncation=True, **options)


@torch.no_grad()
def classify(text, pair=None):
    with lock:
        encoded = encode(text, pair) if pair else encode(text)
        probabilities = model(**encoded).logits.softmax(-1)[0]
    return {{LABELS.get(index, f"LABEL_{{index}}"): float(score) for index, score in enumerate(probabilities)}}


@torch.no_grad()
def entities(text):
    with lock:
        encoded = encode(text, return_offsets_mapping=True)
        offsets = encoded.pop("offset_mapping")[0].tolist()
        special = tokenizer.get_special_tokens_mask(encoded["input_ids"][0].tolist(), already_has_special_tokens=True)
        labels = model(**encoded).logits.argmax(-1)[0].tolist()
    spans = []
    for position, label_id in enumerate(labels):
        label = LABELS.get(label_id, f"LABEL_{{label_id}}")
        if special[position] or label == "O":
            continue
        prefix, entity = (label[0], label[2:]) if len(label) > 2 and label[1] == "-" else ("", label)
        start, end = offsets[position]
        last = spans[-1] if spans else None
        if last and last["entity"] == entity and prefix != "B" and last["next"] == position:
            last["end"], last["next"] = end, position + 1
        else:
            spans.append({{"entity": entity, "start": start, "end": end, "next": position + 1}})
    return {{"text": text, "entities": [{{k: v for k, v in span.items() if k != "next"}} for span in spans]}}


@torch.no_grad()
def answer(question, context, max_answer_tokens=30):
    with lock:
        encoded = encode(question, context, return_offsets_mapping=True)
        offsets = encoded.pop("offset_mapping")[0].tolist()
        sequence_ids = encoded.sequence_ids(0)
        outputs = model(**encoded)
    starts, ends = outputs.start_logits.softmax(-1)[0], outputs.end_logits.softmax(-1)[0]
    positions = [index for index, sequence in enumerate(sequence_ids) if sequence == 1]
    if not positions:
        raise gr.Error("The question fills the whole input; no room was left for the context.")
    best = (0.0, positions[0], positions[0])
    for start in positions:
        for end in positions:
            if start <= end < start + max_answer_tokens and float(starts[start] * ends[end]) > best[0]:
                best = (float(starts[start] * ends[end]), start, end)
    score, start, end = best
    char_start, char_end = offsets[start][0], offsets[end][1]
    span = {{"entity": f"answer {{score:.2f}}", "start": char_start, "end": char_end}}
    marked = {{"text": context, "entities": [span]}}
    return context[char_start:char_end], marked


@torch.no_grad()
def fill_mask(text, top_k=5):
    mask = tokenizer.mask_token
    for spelling in ("[MASK]", "<mask>", "[mask]"):
        text = text.replace(spelling, mask)
    if mask not in text:
        raise gr.Error(f"Put {{mask}} where a word should be predicted.")
    with lock:
        encoded = encode(text)
        logits = model(**encoded).logits
    position = (encoded["input_ids"][0] == tokenizer.mask_token_id).nonzero().flatten().tolist()[0]
    scores, ids = logits[0, position].softmax(-1).topk(top_k)
    pairs = zip(scores.tolist(), ids.tolist())
    return {{tokenizer.decode([token_id]).strip(): float(score) for score, token_id in pairs}}


def generate(text, max_new_tokens=40, temperature=0.0):
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    encoded = encode(text)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    # Only ids and mask: a BERT-style tokenizer adds token_type_ids, which a decoder would embed as extra input.
    options = dict(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"])
    options.update(max_new_tokens=int(max_new_tokens), streamer=streamer, pad_token_id=pad or 0)
    if temperature > 0:
        options.update(do_sample=True, temperature=float(temperature))
    else:
        options.update(do_sample=False)
    thread = threading.Thread(target=torch.no_grad()(model.generate), kwargs=options, daemon=True)
    thread.start()
    generated = ""
    for piece in streamer:
        generated += piece
        yield generated
    thread.join()


with gr.Blocks(title=TITLE) as demo:
    gr.Markdown(f"## {{TITLE}}")
    if TASK == "question-answering":
        inputs = [gr.Textbox(label="Question"), gr.Textbox(label="Context", lines=6)]
        outputs, function = [gr.Textbox(label="Answer"), gr.HighlightedText(label="Where it is")], answer
    else:
        inputs = [gr.Textbox(label="Text", lines=3)]
        if TASK == "sequence-classification":
            if PAIR:
                inputs.append(gr.Textbox(label="Second text", lines=3))
            outputs, function = [gr.Label(label="Classes")], classify
        elif TASK == "token-classification":
            outputs, function = [gr.HighlightedText(label="Entities", combine_adjacent=False)], entities
        elif TASK == "masked-lm":
            outputs, function = [gr.Label(label="Top predictions")], fill_mask
        else:
            inputs.append(gr.Slider(1, 256, value=40, step=1, label="Max new tokens"))
            inputs.append(gr.Slider(0.0, 2.0, value=0.0, step=0.1, label="Temperature (0 = greedy)"))
            outputs, function = [gr.Textbox(label="Generated", lines=6)], generate
    gr.Button("Submit", variant="primary").click(function, inputs=inputs, outputs=outputs, api_name="predict")
    if EXAMPLES:
        gr.Examples(examples=EXAMPLES, inputs=inputs[: len(EXAMPLES[0])])

if __name__ == "__main__":
    demo.launch()
'''

README_TEMPLATE = """---
title: {title}
sdk: gradio
app_file: app.py
pinned: false
---

A demo of {name} ({task}), exported by `workbench demo --export`.
Locally: `pip install -r requirements.txt && python app.py`, then open http://127.0.0.1:7860/.
"""


def _floor(version: str) -> str:
    """'5.24.0' -> '5.24' (a lower bound a Space can satisfy)."""
    return ".".join(version.split("+")[0].split(".")[:2])


def requirements() -> str:
    from importlib.metadata import PackageNotFoundError, version

    lines = []
    for package, fallback in (("gradio", "5"), ("transformers", "5"), ("torch", "2.4")):
        try:
            lines.append(f"{package}>={_floor(version(package))}")
        except PackageNotFoundError:
            lines.append(f"{package}>={fallback}")
    return "\n".join(lines) + "\n"


def render_app(target: DemoTarget) -> str:
    title = f"{target.name} · {target.head}"
    return APP_TEMPLATE.format(
        name=target.name,
        task=target.head,
        title=title,
        pair=bool(target.pair and target.head == "sequence-classification"),
        examples=target.examples,
        auto_class=AUTO_CLASSES[target.head],
    )


def export_app(target: DemoTarget, loaded, folder: Path) -> Path:
    """Write the standalone app for `loaded` (a LoadedModel) into `folder`; returns the folder."""
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise WorkbenchError(f"{folder} is a file, not a folder.", hint="Give a new or empty folder to --export.")
    if (folder / "app.py").exists():
        raise WorkbenchError(f"{folder} already has an app.py.", hint="Give a new or empty folder to --export.")
    if loaded.tokenizer is None:
        raise WorkbenchError(f"{target.name} has no tokenizer, so an exported app could not read text.")
    folder.mkdir(parents=True, exist_ok=True)
    loaded.model.save_pretrained(str(folder / "model"))
    loaded.tokenizer.save_pretrained(str(folder / "model"))
    (folder / "app.py").write_text(render_app(target), encoding="utf-8")
    (folder / "requirements.txt").write_text(requirements(), encoding="utf-8")
    title = target.name.replace(":", " ")[:60]
    readme = README_TEMPLATE.format(title=title, name=target.name, task=target.head)
    (folder / "README.md").write_text(readme, encoding="utf-8")
    return folder
