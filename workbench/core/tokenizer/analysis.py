"""One call of the tokenizer, unpacked into tokens aligned to the characters they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from workbench.core.errors import WorkbenchError
from workbench.core.tokenizer.loader import LoadedTokenizer
from workbench.core.tokenizer.options import TokenizeOptions


class Token(NamedTuple):
    """One token (a NamedTuple: a 2,000-character text makes ~450 of them on every keystroke,
    and building a tuple costs a fraction of a frozen dataclass)."""

    position: int  # index inside its window
    id: int
    text: str  # the token string as the vocabulary spells it ("##ing", "Ġthe", "▁the")
    start: int  # character offsets into its own sequence (the text or the pair)
    end: int
    sequence: int | None  # 0: the text, 1: the pair, None: added by the tokenizer
    word: int | None
    type_id: int | None
    attention: int | None
    special: bool
    unknown: bool
    padding: bool


@dataclass(slots=True)
class Window:
    """One row of `input_ids`: the whole text, or one overflowing window of it."""

    tokens: list[Token]
    # Filled while tokenizing (a megabyte is 200k tokens: the view must not scan them on the UI thread).
    _spans: dict = field(default_factory=dict, compare=False, repr=False)
    _sequences: list | None = field(default=None, compare=False, repr=False)

    @property
    def sequences(self) -> list[int | None]:
        """Each token's sequence (0, 1 or None), as one list."""
        if self._sequences is None:
            self._sequences = [token.sequence for token in self.tokens]
        return self._sequences

    def span(self, sequence: int = 0) -> tuple[int, int] | None:
        """Characters of `sequence` this window covers, or None when it covers none."""
        if sequence not in self._spans:
            starts = [token.start for token in self.tokens if token.sequence == sequence]
            ends = [token.end for token in self.tokens if token.sequence == sequence]
            self._spans[sequence] = (min(starts), max(ends)) if starts else None
        return self._spans[sequence]

    @property
    def content_tokens(self) -> int:
        return sum(1 for token in self.tokens if token.sequence is not None)


@dataclass
class Tokenization:
    text: str
    pair: str | None
    options: TokenizeOptions
    windows: list[Window]
    # The tokenizer's own output, one list per window: input_ids, attention_mask, token_type_ids, offset_mapping.
    encoding: dict[str, list]
    total_tokens: int  # tokens of the text (+ pair) before truncation, special tokens not counted
    words: int
    truncated: list[list[tuple[int, int]]] = field(default_factory=list)  # per sequence: dropped char ranges

    @property
    def characters(self) -> int:
        return len(self.text) + len(self.pair or "")

    @property
    def tokens_per_word(self) -> float:
        return self.total_tokens / self.words if self.words else 0.0

    @property
    def shown_tokens(self) -> int:
        return sum(len(window.tokens) for window in self.windows)

    def sequence_text(self, sequence: int) -> str:
        return self.text if sequence == 0 else (self.pair or "")


def call_tokenizer(loaded: LoadedTokenizer, text, pair, options: TokenizeOptions, **extra):
    """`tokenizer(text, pair, **options)` under the lock, with the truncation side applied and restored.

    Errors from the Rust backend (some are panics, which are BaseException) become WorkbenchError.
    """
    options.check()
    kwargs = options.call_kwargs() | extra
    tokenizer = loaded.tokenizer
    if options.stride and options.truncates and isinstance(text, str):
        _check_stride(tokenizer, text, pair, options)
    with loaded.lock:
        previous_side = tokenizer.truncation_side
        tokenizer.truncation_side = options.truncation_side
        try:
            return tokenizer(text, pair, verbose=False, **kwargs)
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException as error:  # noqa: BLE001 - pyo3 panics derive from BaseException
            raise WorkbenchError(f"The tokenizer refused these options: {_first_line(error)}") from error
        finally:
            tokenizer.truncation_side = previous_side


def _check_stride(tokenizer, text: str, pair: str | None, options: TokenizeOptions) -> None:
    """The Rust backend panics (and prints a backtrace over the TUI) when the stride leaves no room."""
    max_length = options.max_length or tokenizer.model_max_length
    room = max_length - (tokenizer.num_special_tokens_to_add(pair is not None) if options.add_special_tokens else 0)
    if pair is not None and options.truncation in ("only_first", "only_second"):
        kept = pair if options.truncation == "only_first" else text
        room -= len(tokenizer(kept, add_special_tokens=False, verbose=False)["input_ids"])
    if options.stride >= room:
        raise WorkbenchError(
            f"stride: {options.stride} leaves no room; a window holds {max(room, 0)} tokens of the text"
            f" (max_length {max_length} less special tokens{' and the other sequence' if pair is not None else ''})",
            hint="Lower the stride or raise max_length",
        )


def tokenize(
    loaded: LoadedTokenizer, text: str, pair: str | None = None, options: TokenizeOptions | None = None
) -> Tokenization:
    options = options or TokenizeOptions()
    pair = pair or None
    if options.truncation == "only_second" and pair is None:
        raise WorkbenchError("truncation: 'only_second' needs a pair text", hint="Type a pair or pick another strategy")
    batch = call_tokenizer(loaded, text, pair, options)
    encoding = _per_window(batch)
    tokenizer = loaded.tokenizer
    unk_id = tokenizer.unk_token_id
    pad_id = tokenizer.pad_token_id
    special_ids = set(tokenizer.all_special_ids)
    windows: list[Window] = []
    for row, rust in enumerate(batch.encodings):
        ids = encoding["input_ids"][row]
        attention = encoding.get("attention_mask", [None])[row] if "attention_mask" in encoding else None
        type_ids = encoding["token_type_ids"][row] if "token_type_ids" in encoding else None
        offsets = encoding["offset_mapping"][row]
        strings, words, sequences, specials = rust.tokens, rust.word_ids, rust.sequence_ids, rust.special_tokens_mask
        count = len(ids)
        masks = attention if attention is not None else [None] * count
        types = type_ids if type_ids is not None else [None] * count
        tokens = []
        append = tokens.append
        shown_sequences: list[int | None] = []
        spans: dict[int | None, list[int]] = {}
        for position, (token_id, (start, end), sequence, string, word, type_id, mask, special_mask) in enumerate(
            zip(ids, offsets, sequences, strings, words, types, masks, specials)
        ):
            unknown = token_id == unk_id
            special = bool(special_mask) or (token_id in special_ids and not unknown)
            shown = None if special and start == end else sequence
            append(
                Token(
                    position,
                    token_id,
                    string,
                    start,
                    end,
                    shown,
                    word,
                    type_id,
                    mask,
                    special,
                    unknown,
                    token_id == pad_id and (mask == 0 or sequence is None),
                )
            )
            shown_sequences.append(shown)
            span = spans.get(shown)
            if span is None:
                spans[shown] = [start, end]
            else:
                if start < span[0]:
                    span[0] = start
                if end > span[1]:
                    span[1] = end
        known = {0: None, 1: None} | {key: (low, high) for key, (low, high) in spans.items() if key is not None}
        windows.append(Window(tokens, known, shown_sequences))
    if options.truncates:
        full = call_tokenizer(
            loaded, text, pair, TokenizeOptions(add_special_tokens=False), return_offsets_mapping=False
        )
        total = len(full["input_ids"])
    else:
        total = sum(window.content_tokens for window in windows)
    words = len(text.split()) + len((pair or "").split())
    result = Tokenization(text, pair, options, windows, encoding, total, words)
    result.truncated = [dropped_ranges(result, 0), dropped_ranges(result, 1) if pair is not None else []]
    return result


def dropped_ranges(result: Tokenization, sequence: int) -> list[tuple[int, int]]:
    """Character ranges of one sequence that no window covers and that hold more than whitespace."""
    text = result.sequence_text(sequence)
    covered = sorted(
        (token.start, token.end) for window in result.windows for token in window.tokens if token.sequence == sequence
    )
    ranges: list[tuple[int, int]] = []
    cursor = 0
    for start, end in covered + [(len(text), len(text))]:
        if start > cursor and text[cursor:start].strip():
            ranges.append((cursor, start))
        cursor = max(cursor, end)
    return ranges


def overlap_with_previous(windows: list[Window], index: int) -> set[tuple[int, int]]:
    """Offsets of text tokens window `index` shares with the window before it (the stride)."""
    if index == 0:
        return set()
    previous = {(token.start, token.end) for token in windows[index - 1].tokens if token.sequence == 0}
    return {(token.start, token.end) for token in windows[index].tokens if token.sequence == 0} & previous


def _per_window(batch) -> dict[str, list]:
    """The BatchEncoding as plain lists, always one row per window."""
    data = {key: value for key, value in batch.items()}
    ids = data["input_ids"]
    if not ids or not isinstance(ids[0], list):
        data = {key: [value] for key, value in data.items()}
    data["offset_mapping"] = [[tuple(pair) for pair in row] for row in data.get("offset_mapping", [])]
    return data


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
