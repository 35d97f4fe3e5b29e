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


def tokenize_batch(loaded: LoadedTokenizer, texts: list[str], options: TokenizeOptions) -> Batch:
    if not texts:
        raise WorkbenchError("The batch is empty", hint="Type one text per line")
    if len(texts) > MAX_BATCH_ROWS:
        texts = texts[:MAX_BATCH_ROWS]
    options = batch_options(options)
    encoded = call_tokenizer(loaded, texts, None, options, return_offsets_mapping=False)
    tokens = [encoding.tokens for encoding in encoded.encodings]
    return Batch(
        texts=texts,
        tokens=tokens,
        input_ids=encoded["input_ids"],
        attention_mask=encoded.get("attention_mask"),
        token_type_ids=encoded.get("token_type_ids"),
        padding=options.padding,
        overflow_to_sample=encoded.get("overflow_to_sample_mapping"),
        special_ids=frozenset(loaded.tokenizer.all_special_ids) - {loaded.tokenizer.unk_token_id},
    )
