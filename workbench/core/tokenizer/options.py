"""What the user asked the tokenizer to do, as the keyword arguments of `tokenizer(...)`.

One frozen value drives the live view, the headless command and "Show code", so the
three can never disagree about which call produced what is on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from workbench.core.errors import WorkbenchError

TRUNCATION_STRATEGIES = ("longest_first", "only_first", "only_second")
PADDING_STRATEGIES = ("do_not_pad", "longest", "max_length")
SIDES = ("right", "left")
# Padding builds every id, mask and offset list at max_length: 1e11 made the Rust backend abort on allocation.
MAX_PADDED_LENGTH = 1_000_000


@dataclass(frozen=True)
class TokenizeOptions:
    add_special_tokens: bool = True
    # None: no truncation; otherwise one of TRUNCATION_STRATEGIES.
    truncation: str | None = None
    truncation_side: str = "right"
    # None: the tokenizer's model_max_length.
    max_length: int | None = None
    stride: int = 0
    # With truncation on, keep the cut-off tokens as extra windows (what QA pipelines do).
    return_overflowing_tokens: bool = True
    padding: str = "do_not_pad"
    return_attention_mask: bool = True
    # None: the tokenizer's own default.
    return_token_type_ids: bool | None = None
    show_word_ids: bool = True

    def with_changes(self, **changes) -> TokenizeOptions:
        return replace(self, **changes)

    @property
    def truncates(self) -> bool:
        return self.truncation is not None

    @property
    def returns_windows(self) -> bool:
        return self.truncates and self.return_overflowing_tokens

    def check(self) -> None:
        """Raise WorkbenchError naming the field whose value the tokenizer would reject."""
        if self.truncation is not None and self.truncation not in TRUNCATION_STRATEGIES:
            raise WorkbenchError(
                f"truncation: {self.truncation!r} is not a strategy",
                hint=f"Use one of: {', '.join(TRUNCATION_STRATEGIES)}",
            )
        if self.truncation_side not in SIDES:
            raise WorkbenchError(f"truncation side: {self.truncation_side!r} is not 'left' or 'right'")
        if self.padding not in PADDING_STRATEGIES:
            raise WorkbenchError(
                f"padding: {self.padding!r} is not a strategy", hint=f"Use one of: {', '.join(PADDING_STRATEGIES)}"
            )
        if self.max_length is not None and self.max_length < 1:
            raise WorkbenchError(f"max_length: {self.max_length} must be at least 1")
        if self.padding == "max_length" and self.max_length is not None and self.max_length > MAX_PADDED_LENGTH:
            raise WorkbenchError(
                f"max_length: {self.max_length:,} is too long to pad to; at most {MAX_PADDED_LENGTH:,} tokens",
                hint="Pick a smaller max_length, or pad to the longest sequence",
            )
        if self.stride < 0:
            raise WorkbenchError(f"stride: {self.stride} must not be negative")
        if self.stride and self.max_length is not None and self.stride >= self.max_length:
            raise WorkbenchError(f"stride: {self.stride} must be smaller than max_length ({self.max_length})")

    def ignored(self) -> list[str]:
        """Values the tokenizer ignores as the other options stand: notes to show, not errors."""
        notes = []
        if self.stride and not self.truncates:
            notes.append(f"stride {self.stride} is ignored: it only applies with truncation on")
        return notes

    def call_kwargs(self, *, offsets: bool = True) -> dict:
        """Keyword arguments for `tokenizer(text, pair, **kwargs)`, only those that differ from the defaults."""
        kwargs: dict = {}
        if not self.add_special_tokens:
            kwargs["add_special_tokens"] = False
        if self.truncates:
            kwargs["truncation"] = self.truncation
            if self.max_length is not None:
                kwargs["max_length"] = self.max_length
            if self.stride:
                kwargs["stride"] = self.stride
            if self.return_overflowing_tokens:
                kwargs["return_overflowing_tokens"] = True
        if self.padding != "do_not_pad":
            kwargs["padding"] = self.padding
            if self.padding == "max_length" and self.max_length is not None and "max_length" not in kwargs:
                kwargs["max_length"] = self.max_length
        if not self.return_attention_mask:
            kwargs["return_attention_mask"] = False
        if self.return_token_type_ids is not None:
            kwargs["return_token_type_ids"] = self.return_token_type_ids
        if offsets:
            kwargs["return_offsets_mapping"] = True
        return kwargs
