"""The Gradio app for a model's task, and serving it on this machine.

One page per task, each with one endpoint `/predict` (what `gradio_client` and a Space's API call):
class bars (gr.Label) for sequence classification, highlighted entities for token classification,
question + context for question answering, top-k for fill-mask, streaming text for generation.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from workbench.core.demo import require_gradio
from workbench.core.demo.answers import Answerer
from workbench.core.demo.target import DemoTarget
from workbench.core.errors import WorkbenchError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
TASK_TITLES = {
    "sequence-classification": "Text classification",
    "token-classification": "Token classification (entities)",
    "question-answering": "Question answering",
    "masked-lm": "Fill-mask",
    "causal-lm": "Text generation",
    "seq2seq-lm": "Text-to-text generation",
}
PLACEHOLDERS = {
    "sequence-classification": "I've been waiting for a course like this my whole life.",
    "token-classification": "My name is Sylvain and I work at Hugging Face in Brooklyn.",
    "masked-lm": "Paris is the [MASK] of France.",
    "causal-lm": "Once upon a time,",
    "seq2seq-lm": "translate English to French: How are you?",
}


def _guarded(function):
    """Turn a WorkbenchError (bad input) into gr.Error: one line on the page, no traceback."""
    import functools
    import inspect

    gradio = require_gradio()

    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def stream(*args):
            try:
                yield from function(*args)
            except WorkbenchError as error:
                raise gradio.Error(error.message) from None

        return stream

    @functools.wraps(function)
    def call(*args):
        try:
            return function(*args)
        except WorkbenchError as error:
            raise gradio.Error(error.message) from None

    return call


def build_app(target: DemoTarget, loaded, answerer=None):
    """A gr.Blocks for the target's task, answering with `loaded` (a LoadedModel), or through `answerer`
    (an Answerer, or a `worker.RemoteAnswerer` whose model is in another process: `loaded` is then None)."""
    gr = require_gradio()
    answerer = answerer or Answerer(loaded)
    head = target.head
    id2label = (loaded.id2label if loaded is not None else getattr(answerer, "id2label", None)) or {}
    labels = ", ".join(id2label[key] for key in sorted(id2label))
    with gr.Blocks(title=f"{target.name} · workbench demo", analytics_enabled=False) as demo:
        notes = "".join(f"\n\n*{note}*" for note in target.notes)
        gr.Markdown(f"## {target.name}\n{TASK_TITLES[head]}" + (f" · labels: {labels}" if labels else "") + notes)
        if head == "question-answering":
            question = gr.Textbox(label="Question", elem_id="question")
            context = gr.Textbox(label="Context", lines=6, elem_id="context")
            inputs = [question, context]
            answer = gr.Textbox(label="Answer", elem_id="answer")
            marked = gr.HighlightedText(label="Where it is", elem_id="marked")
            outputs, function = [answer, marked], answerer.answer
        else:
            text = gr.Textbox(label="Text", lines=3, placeholder=PLACEHOLDERS.get(head, ""), elem_id="text")
            inputs = [text]
            if head == "sequence-classification" and target.pair:
                inputs.append(gr.Textbox(label="Second text", lines=3, elem_id="text_pair"))
            if head == "sequence-classification":
                outputs, function = [gr.Label(label="Classes", elem_id="classes")], answerer.classify
            elif head == "token-classification":
                outputs = [gr.HighlightedText(label="Entities", combine_adjacent=False, elem_id="entities")]
                function = answerer.entities
            elif head == "masked-lm":
                outputs, function = [gr.Label(label="Top predictions", elem_id="top_k")], answerer.fill_mask
            else:
                inputs.append(gr.Slider(1, 256, value=40, step=1, label="Max new tokens"))
                inputs.append(gr.Slider(0.0, 2.0, value=0.0, step=0.1, label="Temperature (0 = greedy)"))
                outputs, function = [gr.Textbox(label="Generated", lines=6, elem_id="generated")], answerer.generate
        button = gr.Button("Submit", variant="primary", elem_id="submit")
        button.click(_guarded(function), inputs=inputs, outputs=outputs, api_name="predict")
        if target.examples:
            gr.Examples(
                examples=target.examples, inputs=inputs[: len(target.input_names)], label="From the validation data"
            )
    return demo


def free_port(host: str = DEFAULT_HOST, preferred: int | None = None) -> int:
    """`preferred` when it is free (0 or None: any free port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, preferred or 0))
        except OSError:
            if not preferred:
                raise
            raise WorkbenchError(f"Port {preferred} is taken on {host}.", hint="Pick another with --port.") from None
        return probe.getsockname()[1]


@dataclass
class Served:
    demo: object  # gr.Blocks
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def close(self) -> None:
        self.demo.close()


def serve(demo, *, host: str = DEFAULT_HOST, port: int | None = None, share: bool = False, block: bool = False):
    """Launch on host:port (no share link unless asked). Returns a Served; `block` waits until Ctrl-C."""
    port = free_port(host, port)
    demo.queue(default_concurrency_limit=1)
    demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        prevent_thread_lock=True,
        quiet=True,
        show_error=True,
        inbrowser=False,
    )
    served = Served(demo, host, port)
    if block:
        demo.block_thread()
    return served


def ssh_hint(port: int, host: str = DEFAULT_HOST) -> str:
    """The tunnel a user on another machine opens to see a demo bound to this machine's loopback."""
    return f"ssh -L {port}:{host}:{port} <this-host>"
