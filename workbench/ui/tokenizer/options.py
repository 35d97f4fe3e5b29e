"""The Tokenizer pane's options column: it reads its widgets into one `TokenizeOptions`."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Select

from workbench.core.errors import WorkbenchError
from workbench.core.tokenizer.options import TokenizeOptions

TRUNCATIONS = ("none", "longest_first", "only_first", "only_second")
PADDINGS = (("none", "do_not_pad"), ("longest", "longest"), ("max_length", "max_length"))


class OptionsPanel(VerticalScroll):
    """Every change posts `Changed` with the options, or with the reason they are not valid."""

    @dataclass
    class Changed(Message):
        options: TokenizeOptions | None
        error: str | None = None

    def compose(self) -> ComposeResult:
        yield Checkbox("add special tokens", True, id="opt-special", compact=True)
        yield Label("truncation")
        yield Select(
            [(name, name) for name in TRUNCATIONS], value="none", allow_blank=False, id="opt-truncation", compact=True
        )
        yield Label("truncation side")
        yield Select(
            [("right", "right"), ("left", "left")], value="right", allow_blank=False, id="opt-side", compact=True
        )
        yield Label("max_length (empty: model max)")
        yield Input(placeholder="model max", id="opt-max-length", type="integer", compact=True)
        yield Label("stride")
        yield Input("0", id="opt-stride", type="integer", compact=True)
        yield Checkbox("overflow windows", True, id="opt-overflow", compact=True)
        yield Label("padding")
        yield Select(list(PADDINGS), value="do_not_pad", allow_blank=False, id="opt-padding", compact=True)
        yield Checkbox("attention mask", True, id="opt-attention", compact=True)
        yield Checkbox("word ids", True, id="opt-word-ids", compact=True)
        yield Label("tokenizer (Enter loads)")
        yield Input(placeholder="active model", id="opt-source", compact=True)

    @on(Checkbox.Changed)
    @on(Select.Changed)
    @on(Input.Changed, "#opt-max-length, #opt-stride")
    def _changed(self) -> None:
        try:
            self.post_message(self.Changed(self.read()))
        except WorkbenchError as error:
            self.post_message(self.Changed(None, str(error)))

    def read(self) -> TokenizeOptions:
        """The options as shown; a WorkbenchError names the field that is not valid."""

        def number(widget_id: str, name: str) -> int | None:
            raw = self.query_one(widget_id, Input).value.strip()
            if not raw:
                return None
            try:
                return int(raw)
            except ValueError:
                raise WorkbenchError(f"{name}: {raw!r} is not a whole number") from None

        truncation = self.query_one("#opt-truncation", Select).value
        options = TokenizeOptions(
            add_special_tokens=self.query_one("#opt-special", Checkbox).value,
            truncation=None if truncation == "none" else str(truncation),
            truncation_side=str(self.query_one("#opt-side", Select).value),
            max_length=number("#opt-max-length", "max_length"),
            stride=number("#opt-stride", "stride") or 0,
            return_overflowing_tokens=self.query_one("#opt-overflow", Checkbox).value,
            padding=str(self.query_one("#opt-padding", Select).value),
            return_attention_mask=self.query_one("#opt-attention", Checkbox).value,
            show_word_ids=self.query_one("#opt-word-ids", Checkbox).value,
        )
        options.check()
        return options
