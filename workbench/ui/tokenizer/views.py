"""The Batch, Round trip, Compare and Code views: each computes its content in its own worker.

The pane asks a view to `show` the current text, pair, options and tokenizers; the view keeps
a generation counter, so an answer computed for older inputs is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from workbench.core.errors import WorkbenchError
from workbench.core.tokenizer.loader import LoadedTokenizer
from workbench.core.tokenizer.options import TokenizeOptions
from workbench.ui.tokenizer import render_views
from workbench.ui.tokenizer.palette import Palette


@dataclass
class ViewInputs:
    """What every view draws from: pushed down by the pane."""

    loaded: LoadedTokenizer
    text: str
    pair: str | None
    options: TokenizeOptions
    palette: Palette


class ComputedView(VerticalScroll):
    """A scrolling view with one output, computed in a worker."""

    @dataclass
    class Computed(Message):
        generation: int
        content: Content

    def __init__(self, placeholder: str = "", *, output_id: str) -> None:
        super().__init__()
        self._placeholder = placeholder
        self._output_id = output_id
        self.generation = 0

    def compose(self) -> ComposeResult:
        yield Static(self._placeholder, id=self._output_id, classes="tok-output")

    def invalidate(self) -> None:
        """Drop answers on their way (the text, options or tokenizer changed)."""
        self.generation += 1

    def show(self, inputs: ViewInputs) -> None:
        self.generation += 1
        self._compute(self.generation, inputs)

    def compute(self, inputs: ViewInputs) -> Content:
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="tokenizer-view", exit_on_error=False)
    def _compute(self, generation: int, inputs: ViewInputs) -> None:
        try:
            content = self.compute(inputs)
        except WorkbenchError as error:
            content = Content.assemble(("⚠ ", "bold"), str(error))
        self.post_message(self.Computed(generation, content))

    @on(Computed)
    def _computed(self, message: Computed) -> None:
        message.stop()
        if message.generation == self.generation:  # else computed for an older text or options
            self.query_one(f"#{self._output_id}", Static).update(message.content)


class BatchView(ComputedView):
    """Each line of the text as one row of a padded batch, with its attention mask."""

    def compute(self, inputs: ViewInputs) -> Content:
        from workbench.core.tokenizer.batch import split_lines, tokenize_batch

        lines = split_lines(inputs.text)
        if not lines:
            return Content("Type one text per line.")
        batch = tokenize_batch(inputs.loaded, lines, inputs.options, inputs.pair)
        return render_views.render_batch(batch, inputs.palette)


class RoundTripView(ComputedView):
    """decode(encode(text)) against the text, with what is lost marked."""

    def compute(self, inputs: ViewInputs) -> Content:
        from workbench.core.tokenizer.roundtrip import round_trip

        trip = round_trip(inputs.loaded, inputs.text)
        return render_views.render_round_trip(trip, inputs.palette, len(inputs.text))


class CompareSides(Horizontal):
    """The text as the pane's tokenizer and a second one split it, side by side."""

    @dataclass
    class Computed(Message):
        generation: int
        left: Content
        right: Content | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.generation = 0

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id="tok-compare-left", classes="tok-output")
        with VerticalScroll():
            yield Static("", id="tok-compare-right", classes="tok-output")

    def invalidate(self, message: Content | str | None = None) -> None:
        """Drop answers on their way; optionally say why nothing is shown yet."""
        self.generation += 1
        if message is not None:
            self.query_one("#tok-compare-left", Static).update(message)

    def show(self, inputs: ViewInputs, other: LoadedTokenizer | None) -> None:
        if other is None:
            self.invalidate("Loading the second tokenizer…")
            return
        self.generation += 1
        self._compute(self.generation, inputs, other)

    @work(thread=True, exclusive=True, group="tokenizer-view", exit_on_error=False)
    def _compute(self, generation: int, inputs: ViewInputs, other: LoadedTokenizer) -> None:
        from workbench.core.tokenizer.compare import compare

        try:
            comparison = compare(inputs.loaded, other, inputs.text, inputs.options)
            left = render_views.render_compare_side(comparison, "left", inputs.palette)
            right = render_views.render_compare_side(comparison, "right", inputs.palette)
        except WorkbenchError as error:
            self.post_message(self.Computed(generation, Content.assemble(("⚠ ", "bold"), str(error)), None))
            return
        self.post_message(self.Computed(generation, left, right))

    @on(Computed)
    def _computed(self, message: Computed) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self.query_one("#tok-compare-left", Static).update(message.left)
        if message.right is not None:
            self.query_one("#tok-compare-right", Static).update(message.right)


class CodeView(VerticalScroll):
    """The tokenizer calls that reproduce the Tokens and Batch views (cheap: drawn at once)."""

    def compose(self) -> ComposeResult:
        yield Static("", id="tok-code-out", classes="tok-output")

    def show(self, source: str, inputs: ViewInputs, dark: bool) -> None:
        from rich.syntax import Syntax

        from workbench.core.tokenizer.codegen import tokenizer_call_code

        single = tokenizer_call_code(source, inputs.options, text=inputs.text, pair=inputs.pair)
        batch = tokenizer_call_code(source, inputs.options, text=inputs.text, pair=inputs.pair, batch=True)
        code = f"# The Tokens view\n{single}\n\n# The Batch view\n{batch.split(chr(10), 3)[-1]}"
        self.query_one("#tok-code-out", Static).update(
            Syntax(code, "python", theme="monokai" if dark else "default", word_wrap=True, background_color="default")
        )
