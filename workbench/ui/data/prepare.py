"""The Prepare view: map columns to the model's inputs, tokenize, preview a padded batch."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static, TextArea

NO_COLUMN = "-"


class DatasetsPrepareView(VerticalScroll):
    DEFAULT_CSS = """
    DatasetsPrepareView { height: 1fr; }
    DatasetsPrepareView .datasets-prepare-row { height: auto; }
    DatasetsPrepareView .datasets-prepare-row Label { padding: 1 1 0 1; width: auto; }
    DatasetsPrepareView .datasets-prepare-row Select { width: 1fr; }
    DatasetsPrepareView .datasets-prepare-row Input { width: 10; }
    DatasetsPrepareView ProgressBar { margin: 0 1; }
    """

    class PrepareRequested(Message):
        def __init__(
            self, text: str, pair: str | None, label: str | None, max_length: int, fraction: float, seed: int, rows: int
        ) -> None:
            super().__init__()
            self.text = text
            self.pair = pair
            self.label = label
            self.max_length = max_length
            self.fraction = fraction
            self.seed = seed
            self.rows = rows

    class CodeRequested(Message):
        pass

    def compose(self) -> ComposeResult:
        with Horizontal(classes="datasets-prepare-row"):
            yield Label("text")
            yield Select([], id="datasets-prepare-text", allow_blank=True, prompt="text column")
            yield Label("pair")
            yield Select([], id="datasets-prepare-pair", allow_blank=True, prompt="none")
            yield Label("label")
            yield Select([], id="datasets-prepare-label", allow_blank=True, prompt="none")
        with Horizontal(classes="datasets-prepare-row"):
            yield Label("max_length")
            yield Input("128", type="integer", id="datasets-prepare-max-length")
            yield Label("validation share")
            yield Input("0.1", type="number", id="datasets-prepare-fraction")
            yield Label("seed")
            yield Input("42", type="integer", id="datasets-prepare-seed")
        with Horizontal(classes="datasets-prepare-row"):
            yield Label("preview rows")
            yield Input("4", type="integer", id="datasets-prepare-rows")
            yield Button("Prepare (p)", variant="primary", id="datasets-prepare-run")
            yield Button("Show code (c)", id="datasets-prepare-code")
        yield ProgressBar(id="datasets-prepare-progress", show_eta=False)
        yield Static(
            "Map the columns, then press p to tokenize and preview a batch.", id="datasets-prepare-body", markup=False
        )

    def set_columns(self, columns: list[str], text: str | None, pair: str | None, label: str | None) -> None:
        options = [(name, name) for name in columns]
        for widget_id, value in (("text", text), ("pair", pair), ("label", label)):
            select = self.query_one(f"#datasets-prepare-{widget_id}", Select)
            select.set_options(options)
            select.value = value if value in columns else Select.NULL

    def _value(self, widget_id: str) -> str | None:
        value = self.query_one(f"#datasets-prepare-{widget_id}", Select).value
        return None if value is Select.NULL else str(value)

    def request(self) -> DatasetsPrepareView.PrepareRequested | None:
        text = self._value("text")
        if text is None:
            self.notify("Choose the text column first.", severity="warning")
            return None
        try:
            max_length = int(self.query_one("#datasets-prepare-max-length", Input).value)
            fraction = float(self.query_one("#datasets-prepare-fraction", Input).value)
            seed = int(self.query_one("#datasets-prepare-seed", Input).value)
            rows = int(self.query_one("#datasets-prepare-rows", Input).value)
        except ValueError:
            self.notify(
                "max_length, seed and preview rows are whole numbers; the validation share a number like 0.1.",
                severity="warning",
            )
            return None
        return self.PrepareRequested(
            text, self._value("pair"), self._value("label"), max_length, fraction, seed, max(1, min(rows, 64))
        )

    @on(Button.Pressed, "#datasets-prepare-run")
    def _run(self) -> None:
        request = self.request()
        if request is not None:
            self.post_message(request)

    @on(Button.Pressed, "#datasets-prepare-code")
    def _code(self) -> None:
        self.post_message(self.CodeRequested())

    def show_progress(self, done: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)

    def show_text(self, text: str) -> None:
        self.query_one("#datasets-prepare-body", Static).update(text)


def preview_text(summary: list[str], tokens: list[list[str]], tensors: dict, pad_token: str | None) -> str:
    """The collator's batch as tokens (padding dimmed as ·) and as tensors with shapes."""
    lines = list(summary)
    lines += ["", "Batch from DataCollatorWithPadding (padded to the longest row):", ""]
    for index, row in enumerate(tokens):
        shown = ["·" if token == pad_token else token for token in row]
        lines.append(f"  row {index}: " + " ".join(shown))
    lines.append("")
    for name, (shape, dtype, values) in tensors.items():
        lines.append(f"  {name}  shape={list(shape)}  dtype={dtype}")
        if isinstance(values, list) and values and isinstance(values[0], list):
            for row in values:
                cells = " ".join(str(v) for v in row[:24]) + (" …" if len(row) > 24 else "")
                lines.append(f"    [{cells}]")
        else:
            lines.append(f"    {values}")
    return "\n".join(lines)


class CodeDialog(ModalScreen[None]):
    """The code that reproduces the preparation, selectable and copyable."""

    DEFAULT_CSS = """
    CodeDialog { align: center middle; }
    CodeDialog > Vertical { width: 92%; height: 85%; border: round $accent; background: $surface; padding: 0 1; }
    CodeDialog TextArea { height: 1fr; }
    CodeDialog .dialog-buttons { height: auto; align-horizontal: right; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="datasets.code.close", tooltip="Close"),
        Binding("ctrl+y", "copy", "Copy all", id="datasets.code.copy", tooltip="Copy the code to the clipboard"),
    ]

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Code that reproduces this preparation", classes="dialog-title")
            yield TextArea(self.code, read_only=True, id="datasets-code", show_line_numbers=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy all (ctrl+y)", id="datasets-code-copy")
                yield Button("Close", variant="primary", id="datasets-code-close")

    @on(Button.Pressed, "#datasets-code-copy")
    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.code)
        self.notify("Code copied.")

    @on(Button.Pressed, "#datasets-code-close")
    def action_close(self) -> None:
        self.dismiss(None)
