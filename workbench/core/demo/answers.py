"""The demo's answers, in the shapes Gradio's components take, computed by the Models playground's inference.

Gradio-free, so they are tested without a server. One lock serialises calls: Gradio answers in threads,
and a fast tokenizer keeps truncation state between calls.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from workbench.core.errors import WorkbenchError
from workbench.core.models.inference import PlaygroundInput, generation_options, predict, stream_generate

FILL_MASK_TOP_K = 5


class Answerer:
    """Answers one task for one loaded model (a `LoadedModel`)."""

    def __init__(self, loaded) -> None:
        self.loaded = loaded
        self.head = loaded.options.head.key
        self.lock = threading.Lock()

    def _predict(self, inputs: PlaygroundInput) -> dict:
        with self.lock:
            return predict(self.loaded, inputs).result

    def classify(self, text: str, pair: str | None = None) -> dict[str, float]:
        """{label: probability} for every class (gr.Label)."""
        result = self._predict(PlaygroundInput(text=text or "", pair=pair or None))
        return {item["label"]: float(item["score"]) for item in result["labels"]}

    def entities(self, text: str) -> dict:
        """{"text", "entities": [{entity, start, end, score}]} (gr.HighlightedText); O tokens are not marked."""
        result = self._predict(PlaygroundInput(text=text or ""))
        spans = [
            {"entity": span["label"], "start": span["start"], "end": span["end"], "score": span["score"]}
            for span in result["spans"]
        ]
        return {"text": text, "entities": spans}

    def answer(self, question: str, context: str) -> tuple[str, dict]:
        """The answer, and the context with the answer marked (gr.HighlightedText)."""
        result = self._predict(PlaygroundInput(text=question or "", context=context or ""))
        marked = {
            "text": context,
            "entities": [{"entity": f"answer {result['score']:.2f}", "start": result["start"], "end": result["end"]}],
        }
        return result["answer"], marked

    def fill_mask(self, text: str, top_k: int = FILL_MASK_TOP_K) -> dict[str, float]:
        """{filled-in token: probability} for the first mask (gr.Label)."""
        result = self._predict(PlaygroundInput(text=text or "", top_k=top_k))
        candidates = result["masks"][0]["candidates"] if result["masks"] else []
        return {candidate["token"]: float(candidate["score"]) for candidate in candidates}

    def generate(self, text: str, max_new_tokens: int = 40, temperature: float = 0.0) -> Iterator[str]:
        """The generated text so far, token by token (a streaming gr.Textbox)."""
        from workbench.core.models.inference import validate

        inputs = PlaygroundInput(text=text or "", max_new_tokens=int(max_new_tokens), temperature=float(temperature))
        validate(self.head, inputs)
        yield from stream_generation(self.loaded, inputs, self.lock)

    def warm_up(self) -> float:
        """One real answer to a fixed input, so the first visitor does not pay for torch's first call; seconds.

        A failure here is not the demo's: the same input from a visitor gets the message on the page."""
        import time

        began = time.perf_counter()
        try:
            if self.head == "question-answering":
                self.answer("Where does Sylvain work?", "My name is Sylvain and I work at Hugging Face in Brooklyn.")
            elif self.head == "token-classification":
                self.entities("My name is Sylvain and I work at Hugging Face in Brooklyn.")
            elif self.head == "masked-lm":
                mask = getattr(self.loaded.tokenizer, "mask_token", None) or "[MASK]"
                self.fill_mask(f"Paris is the {mask} of France.")
            elif self.head in ("causal-lm", "seq2seq-lm"):
                for _ in self.generate("Once upon a time,", max_new_tokens=2):
                    pass
            else:
                self.classify("I've been waiting for a course like this my whole life.")
        except Exception:  # noqa: BLE001 - a warm-up only; the visitor's own request reports its error
            pass
        return time.perf_counter() - began


def stream_generation(loaded, inputs: PlaygroundInput, lock: threading.Lock) -> Iterator[str]:
    """The text generated so far, as the playground streams it (`inference.stream_generate`)."""
    tokenizer = loaded.tokenizer
    if tokenizer is None:
        raise WorkbenchError(f"{loaded.info.name} has no tokenizer, so it cannot read text.")
    with lock:
        encoded = tokenizer(inputs.text, return_tensors="pt", truncation=True)
    options = {
        "input_ids": encoded["input_ids"],
        "attention_mask": encoded["attention_mask"],
        **generation_options(tokenizer, inputs),
    }
    try:
        yield from stream_generate(loaded.model, tokenizer, options, {})
    except Exception as error:  # noqa: BLE001 - a message for the demo's page
        raise WorkbenchError(f"Generation failed: {error}") from None
