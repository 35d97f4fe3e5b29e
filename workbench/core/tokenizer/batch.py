"""Several texts as one padded batch: what `tokenizer(list_of_texts, padding=True)` returns."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.errors import WorkbenchError
from workbench.core.tokenizer.analysis import call_tokenizer
from workbench.core.tokenizer.loader import LoadedTokenizer
from workbench.core.tokenizer.options import TokenizeOptions

MAX_BATCH_ROWS = 256


@dataclass
class Batch:
    texts: list[str]
    tokens: list[list[str]]  # one row per text, padded like input_ids
    input_ids: list[list[int]]
    attention_mask: list[list[int]] | None
    token_type_ids: list[list[int]] | None
    padding: str  # the strategy used
    padding_asked: str = ""  # the strategy the options asked for (a batch is padded even when it is none)
    pairs: list[str] | None = None  # the second text of each row, for sentence-pair models
    overflow_to_sample: list[int] | None = None  # row -> text, when truncation kept overflow windows
    special_ids: frozenset[int] = frozenset()

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.input_ids), max((len(row) for row in self.input_ids), default=0)

    @property
    def padding_tokens(self) -> int:
        if self.attention_mask is None:
            return 0
        return sum(row.count(0) for row in self.attention_mask)


def batch_options(options: TokenizeOptions) -> TokenizeOptions:
    """A batch is padded: the view's padding, or `longest` (padding=True) when none is chosen."""
    return options.with_changes(padding="longest" if options.padding == "do_not_pad" else options.padding)


def split_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def pair_lines(texts: list[str], pair: str | None) -> list[str] | None:
    """The pair of each text line: one pair line for all of them, or one per text line."""
    pairs = split_lines(pair or "")
    if not pairs:
        return None
    if len(pairs) == 1:
        return pairs * len(texts)
    if len(pairs) != len(texts):
        raise WorkbenchError(
            f"The pair has {len(pairs)} lines and the text {len(texts)}",
            hint="Give one pair line for every text line, or a single pair line for all of them",
        )
    return pairs


def tokenize_batch(
    loaded: LoadedTokenizer, texts: list[str], options: TokenizeOptions, pair: str | None = None
) -> Batch:
    """`tokenizer(texts, pairs, padding=...)` for the text's lines, each with its pair line (if any)."""
    if not texts:
        raise WorkbenchError("The batch is empty", hint="Type one text per line")
    pairs = pair_lines(texts, pair)
    if len(texts) > MAX_BATCH_ROWS:
        texts = texts[:MAX_BATCH_ROWS]
        pairs = pairs[:MAX_BATCH_ROWS] if pairs else None
    asked = options.padding
    options = batch_options(options)
    encoded = call_tokenizer(loaded, texts, pairs, options, return_offsets_mapping=False)
    tokens = [encoding.tokens for encoding in encoded.encodings]
    return Batch(
        texts=texts,
        tokens=tokens,
        input_ids=encoded["input_ids"],
        attention_mask=encoded.get("attention_mask"),
        token_type_ids=encoded.get("token_type_ids"),
        padding=options.padding,
        padding_asked=asked,
        pairs=pairs,
        overflow_to_sample=encoded.get("overflow_to_sample_mapping"),
        special_ids=frozenset(loaded.tokenizer.all_special_ids) - {loaded.tokenizer.unk_token_id},
    )
