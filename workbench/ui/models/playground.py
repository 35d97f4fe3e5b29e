"""The inference playground: inputs for the selected head, raw output and the postprocessed answer."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from workbench.core.errors import WorkbenchError
from workbench.core.models.inference import PlaygroundInput
from workbench.core.models.render import bar

SPAN_STYLES = [
    "bold black on #7aa2f7",
    "bold black on #9ece6a",
    "bold black on #e0af68",
    "bold black on #bb9af7",
    "bold black on #7dcfff",
]

# head -> the title of the box that shows its result
RESULT_TITLES = {
    "base": "Embedding",
    "sequence-classification": "Classes",
    "token-classification": "Tags",
    "question-answering": "Answer",
    "multiple-choice": "Choice",
    "masked-lm": "Predictions",
    "causal-lm": "Generated text",
    "seq2seq-lm": "Generated text",
}

# head -> (placeholder of the main text, label of the second field or None)
FIELDS = {
    "base": ("Text to embed", None),
    "sequence-classification": ("Text to classify", "Second sentence (optional, for pairs)"),
    "token-classification": ("Text to tag, e.g. Sarah lives in Paris", None),
    "question-answering": ("Question", "Context: the passage that holds the answer"),
    "multiple-choice": ("Prompt", "Choices, separated by |"),
    "masked-lm": ("Text with [MASK], e.g. Paris is the [MASK] of France.", None),
    "causal-lm": ("Prompt to continue", None),
    "seq2seq-lm": ("Input text", None),
}
GENERATING = ("causal-lm", "seq2seq-lm")


class Playground(Vertical):
    DEFAULT_CSS = """
    Playground { height: auto; }
    Playground Input { margin: 0 0; }
    Playground #play-knobs { height: auto; }
    Playground #play-knobs Input { width: 1fr; }
    Playground #play-knobs Label { padding: 1 1 0 1; }
    Playground #play-buttons { height: auto; }
    Playground #play-buttons Button { margin-right: 1; }
    Playground #play-status { color: $text-muted; padding: 0 1; height: auto; }
    Playground .play-output { padding: 0 1; height: auto; }
    Playground #play-answer { border: round $panel-lighten-2; }
    Playground #play-raw { color: $text-muted; }
    """

    @dataclass
    class Predicted(Message):
        """A prediction worker finished (or failed)."""

        prediction: object
        inputs: PlaygroundInput
        error: WorkbenchError | None = None
        head_all_new: bool = False

    @dataclass
    class Streamed(Message):
        """Generated text so far; only the newest waits in the queue (tokens come faster than frames)."""

        text: str
        inputs: PlaygroundInput

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, Playground.Streamed)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.head_key = "base"
        self.last_prediction = None  # (prediction, inputs) of the last run shown

    def run(self, loaded, inputs: PlaygroundInput) -> None:
        """Run the loaded model on the inputs in a worker; the answer is shown when it comes."""
        self.set_status("Running…")
        self._predict(loaded, inputs)

    @work(thread=True, exclusive=True, exit_on_error=False, group="models-predict")
    def _predict(self, loaded, inputs: PlaygroundInput) -> None:
        from workbench.core.models.inference import predict

        new = loaded.report.head_all_new

        def stream(text: str) -> None:
            self.post_message(self.Streamed(text, inputs))

        try:
            prediction = predict(loaded, inputs, on_text=stream if loaded.options.head.key in GENERATING else None)
        except WorkbenchError as error:
            self.post_message(self.Predicted(None, inputs, error))
            return
        except Exception as error:  # noqa: BLE001 - shown to the user
            self.post_message(self.Predicted(None, inputs, WorkbenchError(f"{type(error).__name__}: {error}")))
            return
        self.post_message(self.Predicted(prediction, inputs, None, new))

    @on(Streamed)
    def _streamed(self, message: Streamed) -> None:
        message.stop()
        prompt = Text(message.inputs.text, style="dim") if self.head_key == "causal-lm" else Text("")
        gap = " " if self.head_key == "causal-lm" and not message.text[:1].isspace() else ""
        self.query_one("#play-answer", Static).update(Text.assemble(prompt, gap, (message.text, "bold"), ("▌", "dim")))
        self.set_status("Generating…")

    @on(Predicted)
    def _predicted(self, message: Predicted) -> None:
        message.stop()
        if message.error is not None:
            self.set_status(message.error.message, error=True)
            return
        self.last_prediction = (message.prediction, message.inputs)
        self.set_status("")
        self.show_prediction(message.prediction, message.inputs.text, message.head_all_new)

    def compose(self) -> ComposeResult:
        yield Input(placeholder=FIELDS["base"][0], id="play-text")
        yield Input(placeholder="", id="play-second")
        with Horizontal(id="play-knobs"):
            yield Label("top-k", id="play-top-k-label")
            yield Input("5", id="play-top-k", type="integer")
            yield Label("max new", id="play-max-new-label")
            yield Input("20", id="play-max-new", type="integer")
            yield Label("temp", id="play-temperature-label")
            yield Input("0.7", id="play-temperature", type="number")
            yield Label("top-p", id="play-top-p-label")
            yield Input("0.9", id="play-top-p", type="number")
            yield Label("seed", id="play-seed-label")
            yield Input("0", id="play-seed", type="integer")
        with Horizontal(id="play-buttons"):
            yield Button("Run  ^r", id="play-run", variant="primary")
            yield Button("Show code  ^g", id="play-code")
        yield Static("", id="play-status")
        yield Static("", id="play-answer", classes="play-output")
        yield Static("", id="play-raw", classes="play-output")

    def on_mount(self) -> None:
        self.configure("base")

    def configure(self, head_key: str) -> None:
        """Show the fields this head needs."""
        self.head_key = head_key
        main, second = FIELDS.get(head_key, FIELDS["base"])
        self.query_one("#play-answer").border_title = RESULT_TITLES.get(head_key, "Result")
        self.query_one("#play-text", Input).placeholder = main
        second_input = self.query_one("#play-second", Input)
        second_input.display = second is not None
        second_input.placeholder = second or ""
        generating = head_key in GENERATING
        for name in ("max-new", "temperature", "top-p", "seed"):
            self.query_one(f"#play-{name}").display = generating
            self.query_one(f"#play-{name}-label").display = generating
        self.query_one("#play-top-k").display = head_key == "masked-lm"
        self.query_one("#play-top-k-label").display = head_key == "masked-lm"
        self.query_one("#play-knobs").display = generating or head_key == "masked-lm"

    def set_text(self, text: str, second: str = "") -> None:
        self.query_one("#play-text", Input).value = text
        self.query_one("#play-second", Input).value = second

    def _number(self, field: str, label: str, kind=int):
        raw = self.query_one(f"#play-{field}", Input).value.strip()
        try:
            return kind(raw)
        except ValueError:
            raise WorkbenchError(f"{label}: {raw!r} is not a {'whole ' if kind is int else ''}number.") from None

    def read_inputs(self) -> PlaygroundInput:
        text = self.query_one("#play-text", Input).value
        second = self.query_one("#play-second", Input).value
        head = self.head_key
        return PlaygroundInput(
            text=text,
            pair=second.strip() or None if head == "sequence-classification" else None,
            context=second if head == "question-answering" else "",
            choices=tuple(choice.strip() for choice in second.split("|")) if head == "multiple-choice" else (),
            top_k=self._number("top-k", "top-k") if head == "masked-lm" else 5,
            max_new_tokens=self._number("max-new", "max new tokens") if head in GENERATING else 20,
            temperature=self._number("temperature", "temperature", float) if head in GENERATING else 1.0,
            top_p=self._number("top-p", "top-p", float) if head in GENERATING else 1.0,
            seed=self._number("seed", "seed") if head in GENERATING else 0,
        )

    def set_status(self, message: str, error: bool = False) -> None:
        self.query_one("#play-status", Static).update(Text(message, style="bold red" if error else ""))

    def clear_output(self) -> None:
        self.query_one("#play-answer", Static).update("")
        self.query_one("#play-raw", Static).update("")

    def show_prediction(self, prediction, text: str, head_all_new: bool) -> None:
        answer = render_answer(prediction.head, prediction.result, text)
        if head_all_new:
            warning = Text(
                "This head is newly initialised (random): its output is noise until trained.", style="bold yellow"
            )
            answer = Group(warning, answer)
        self.query_one("#play-answer", Static).update(answer)
        raw = Table.grid(padding=(0, 2))
        raw.add_column(style="bold")
        raw.add_column()
        raw.add_column()
        for name, shape, preview in prediction.raw:
            raw.add_row(name, str(shape), preview)
        self.query_one("#play-raw", Static).update(Group(Text("Raw output", style="bold underline"), raw))


def _bars(rows: list[tuple[str, float]]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True, style="bold")
    table.add_column(no_wrap=True)
    table.add_column(justify="right")
    for index, (label, score) in enumerate(rows):
        table.add_row(label, Text(bar(score, 30), style="green" if index == 0 else "blue"), f"{score:.2%}")
    return table


def render_answer(head: str, result: dict, text: str):
    """The postprocessed answer as Rich renderables (bars, spans, answer, top-k, generated text)."""
    if head == "sequence-classification":
        return _bars([(item["label"], item["score"]) for item in result["labels"]])
    if head == "multiple-choice":
        return _bars([(item["choice"], item["score"]) for item in result["choices"]])
    if head == "masked-lm":
        parts = []
        for mask in result["masks"]:
            parts.append(Text(mask["candidates"][0]["sequence"], style="italic"))
            parts.append(_bars([(candidate["token"], candidate["score"]) for candidate in mask["candidates"]]))
        return Group(*parts)
    if head == "token-classification":
        return _spans(text, result["spans"])
    if head == "question-answering":
        return Group(
            Text.assemble(("Answer: ", "bold"), (result["answer"] or "(empty)", "bold green")),
            Text(
                f"score {result['score']:.4f} · characters {result['start']}–{result['end']}"
                f" · tokens {result['start_token']}–{result['end_token']}",
                style="dim",
            ),
        )
    if head in ("causal-lm", "seq2seq-lm"):
        prompt = Text(text, style="dim") if head == "causal-lm" else Text("")
        generated = Text.assemble(prompt, (" " if head == "causal-lm" else ""), (result["generated"], "bold"))
        return Group(generated, Text(f"{result['new_tokens']} new tokens · {result['sampling']}", style="dim"))
    return Text(
        f"{result['tokens']} tokens × {result['hidden_size']} hidden · mean-pooled embedding "
        f"[{', '.join(f'{value:.3f}' for value in result['mean_pooled'])} …] · norm {result['norm']:.3f}"
    )


def _spans(text: str, spans: list[dict]):
    labels = sorted({span["label"] for span in spans})
    styles = {label: SPAN_STYLES[index % len(SPAN_STYLES)] for index, label in enumerate(labels)}
    marked = Text(text)
    for span in spans:
        marked.stylize(styles[span["label"]], span["start"], span["end"])
    legend = Table.grid(padding=(0, 2))
    legend.add_column(no_wrap=True)
    legend.add_column()
    legend.add_column(justify="right")
    for span in spans:
        legend.add_row(Text(f" {span['label']} ", style=styles[span["label"]]), span["text"], f"{span['score']:.3f}")
    if not spans:
        return Group(marked, Text("No entities: every token was tagged O.", style="dim"))
    return Group(marked, legend)
