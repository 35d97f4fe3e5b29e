"""The Train view: train a new tokenizer like the loaded one (train_new_from_iterator) in a worker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import var
from textual.widgets import Button, Input, Label, ProgressBar, Static

from workbench.core.errors import WorkbenchError
from workbench.core.tokenizer.loader import LoadedTokenizer


class TrainView(VerticalScroll):
    """The form, its worker and its progress. The pane pushes `base` (the loaded tokenizer) and
    `dataset` (the open dataset) down; a finished training posts `Trained`."""

    base: var[LoadedTokenizer | None] = var(None)
    dataset: var[dict | None] = var(None)

    @dataclass
    class Progressed(Message):
        done: int
        total: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, TrainView.Progressed)

    @dataclass
    class Failed(Message):
        error: str

    @dataclass
    class Trained(Message):
        """Bubbles to the pane, which compares the new tokenizer with the old."""

        loaded: LoadedTokenizer
        folder: str
        description: str

    def compose(self) -> ComposeResult:
        yield Label("Train on: a text file (one text per line), or a column of the open dataset")
        yield Input(placeholder="text file path, or empty for the open dataset", id="tok-train-source", compact=True)
        yield Input(placeholder="dataset column (default: its text column)", id="tok-train-column", compact=True)
        yield Label("Vocabulary size")
        yield Input("8000", id="tok-train-vocab", type="integer", compact=True)
        yield Label("Save to folder")
        yield Input(placeholder="folder for the new tokenizer", id="tok-train-output", compact=True)
        yield Button("Train new tokenizer", id="tok-train-start", variant="primary", compact=True)
        yield ProgressBar(total=100, show_eta=False, id="tok-train-progress")
        yield Static("", id="tok-train-log")

    def _log(self, content: Content | str) -> None:
        self.query_one("#tok-train-log", Static).update(content)

    @on(Button.Pressed, "#tok-train-start")
    def _train_pressed(self) -> None:
        if self.base is None:
            self.notify("The tokenizer is still loading", severity="warning")
            return
        source = self.query_one("#tok-train-source", Input).value.strip()
        column = self.query_one("#tok-train-column", Input).value.strip() or None
        output = self.query_one("#tok-train-output", Input).value.strip()
        vocab_raw = self.query_one("#tok-train-vocab", Input).value.strip()
        problems = []
        if not output:
            problems.append("Save to folder: give a folder for the new tokenizer")
        if not vocab_raw.isdigit():
            problems.append(f"Vocabulary size: {vocab_raw!r} is not a whole number")
        if not source and not self.dataset:
            problems.append("Train on: give a text file, or open a dataset in the Datasets pane")
        if problems:
            self._log("\n".join(problems))
            return
        self.query_one("#tok-train-start", Button).disabled = True
        self._log("Reading the texts…")
        self._train(self.base, source, self.dataset, column, int(vocab_raw), output)

    @work(thread=True, exclusive=True, group="tokenizer-train", exit_on_error=False)
    def _train(self, base, source: str, dataset: dict | None, column: str | None, vocab_size: int, output: str) -> None:
        from workbench.core.tokenizer.train_new import corpus_from_dataset, corpus_from_text_file, train_new_tokenizer

        try:
            corpus = corpus_from_text_file(source) if source else corpus_from_dataset(dataset or {}, column)
            trained = train_new_tokenizer(
                base, corpus, vocab_size, output, lambda done, total: self.post_message(self.Progressed(done, total))
            )
        except WorkbenchError as error:
            self.post_message(self.Failed(str(error)))
            return
        except Exception as error:  # noqa: BLE001 - the trainer can fail in many ways; show why, keep the TUI
            self.post_message(self.Failed(f"Training failed: {type(error).__name__}: {error}"))
            return
        self.post_message(self.Trained(trained, output, corpus.description))

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        message.stop()
        self.query_one("#tok-train-progress", ProgressBar).update(total=message.total, progress=message.done)
        self._log(f"Read {message.done:,} of {message.total:,} texts; learning the vocabulary…")

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        message.stop()
        self.query_one("#tok-train-start", Button).disabled = False
        self._log(Content.assemble(("⚠ ", "bold"), message.error))

    @on(Trained)
    def _trained(self, message: Trained) -> None:
        # Not stopped: the pane shows the new tokenizer in the Compare view.
        self.query_one("#tok-train-start", Button).disabled = False
        loaded = message.loaded
        self._log(
            f"Trained on {message.description}: {loaded.model_type}, {loaded.vocab_size:,} tokens,"
            f" saved to {Path(message.folder).name}. The Compare view now shows old against new."
        )
