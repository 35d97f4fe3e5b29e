"""Two tokenizers on one text: counts, and which tokens split the text differently."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.tokenizer.analysis import Token, Tokenization, tokenize
from workbench.core.tokenizer.loader import LoadedTokenizer
from workbench.core.tokenizer.options import TokenizeOptions


@dataclass
class Comparison:
    left: Tokenization
    right: Tokenization
    left_name: str
    right_name: str
    # Offsets (start, end) of text tokens that the other side does not have as one token.
    left_only: set[tuple[int, int]]
    right_only: set[tuple[int, int]]

    @property
    def left_tokens(self) -> int:
        return self.left.total_tokens

    @property
    def right_tokens(self) -> int:
        return self.right.total_tokens

    @property
    def identical_splits(self) -> bool:
        return not self.left_only and not self.right_only

    def differs(self, side: str, token: Token) -> bool:
        spans = self.left_only if side == "left" else self.right_only
        return (token.start, token.end) in spans


def spans_of(result: Tokenization) -> set[tuple[int, int]]:
    return {(token.start, token.end) for window in result.windows for token in window.tokens if token.sequence == 0}


def compare(
    left: LoadedTokenizer, right: LoadedTokenizer, text: str, options: TokenizeOptions | None = None
) -> Comparison:
    """Both sides see the text alone, without truncation, so the whole text is compared."""
    options = (options or TokenizeOptions()).with_changes(truncation=None, stride=0, padding="do_not_pad")
    left_result = tokenize(left, text, None, options)
    right_result = tokenize(right, text, None, options)
    left_spans, right_spans = spans_of(left_result), spans_of(right_result)
    return Comparison(
        left=left_result,
        right=right_result,
        left_name=left.name,
        right_name=right.name,
        left_only=left_spans - right_spans,
        right_only=right_spans - left_spans,
    )
