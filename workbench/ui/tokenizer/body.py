"""Everything in the Tokenizer pane below its status line: the text, the views and the options."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, TabbedContent, TabPane

from workbench.ui.tokenizer.editor import TokenizerEditor
from workbench.ui.tokenizer.lines import TokenLines
from workbench.ui.tokenizer.options import OptionsPanel
from workbench.ui.tokenizer.status import StatusLine
from workbench.ui.tokenizer.train_view import TrainView
from workbench.ui.tokenizer.views import BatchView, CodeView, CompareSides, RoundTripView

SAMPLE_TEXT = "Tokenizers split text into pieces: “naïve” café-owners don't see [UNK]s ☃ often."


class TokenizerBody(Horizontal):
    """Mounted when the pane is first shown (keeps app start light)."""

    def __init__(self, *, on_edit: Callable[[], None], id: str | None = None) -> None:
        super().__init__(id=id)
        self._on_edit = on_edit

    def compose(self) -> ComposeResult:
        with Vertical(id="tok-main"):
            # The status line sits above the text, not across the pane: a keystroke repaints it
            # with the editor, and Textual redraws every widget inside the rectangle they span.
            yield StatusLine("Loading the tokenizer…", id="tok-status")
            yield TokenizerEditor(
                SAMPLE_TEXT, id="tok-text", soft_wrap=True, show_line_numbers=False, on_edit=self._on_edit
            )
            yield Input(
                placeholder="pair: a second text for sentence-pair models (optional)", id="tok-pair", compact=True
            )
            with TabbedContent(id="tok-views"):
                with TabPane("Tokens", id="view-tokens"):
                    yield TokenLines(id="tok-tokens-out")
                with TabPane("Batch", id="view-batch"):
                    yield BatchView(
                        "Each line of the text becomes one row of a padded batch.", output_id="tok-batch-out"
                    )
                with TabPane("Round trip", id="view-roundtrip"):
                    yield RoundTripView(output_id="tok-roundtrip-out")
                with TabPane("Compare", id="view-compare"):
                    with Horizontal(id="tok-compare-bar"):
                        yield Input(
                            placeholder="second tokenizer: a local folder (Enter loads)",
                            id="tok-compare-path",
                            compact=True,
                        )
                    yield CompareSides(id="tok-compare-sides")
                with TabPane("Train", id="view-train"):
                    yield TrainView(id="tok-train-form")
                with TabPane("Code", id="view-code"):
                    yield CodeView()
        yield OptionsPanel(id="tok-options")
