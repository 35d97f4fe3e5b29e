"""decode(encode(text)) against the text: what the tokenizer loses on the way."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from workbench.core.tokenizer.loader import LoadedTokenizer

# Decoding and aligning a megabyte takes seconds; the view compares a prefix this long.
MAX_ROUND_TRIP_CHARS = 100_000

LOSS_KINDS = ("case", "accents", "unknown", "whitespace", "changed")


@dataclass(frozen=True)
class Piece:
    """A run of the original text and what came back for it; kind None means unchanged."""

    original: str
    decoded: str
    kind: str | None


@dataclass
class RoundTrip:
    decoded: str
    pieces: list[Piece]
    compared_chars: int  # how much of the text was compared (MAX_ROUND_TRIP_CHARS at most)

    @property
    def lossless(self) -> bool:
        return all(piece.kind is None for piece in self.pieces)

    def counts(self) -> dict[str, int]:
        """Characters of the original affected, per kind of loss."""
        counts = dict.fromkeys(LOSS_KINDS, 0)
        for piece in self.pieces:
            if piece.kind is not None:
                counts[piece.kind] += max(len(piece.original), 1)
        return {kind: count for kind, count in counts.items() if count}


def strip_accents(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFD", text) if not unicodedata.combining(char))


def classify(original: str, decoded: str, unk_token: str | None) -> str:
    if unk_token and unk_token in decoded:
        return "unknown"
    if not original.strip() and not decoded.strip():
        return "whitespace"
    if original.lower() == decoded:
        return "case"
    if strip_accents(original) == decoded or strip_accents(original).lower() == decoded:
        return "accents"
    if original.split() == decoded.split() or "".join(original.split()) == "".join(decoded.split()):
        return "whitespace"
    return "changed"


def round_trip(loaded: LoadedTokenizer, text: str, ids: list[int] | None = None) -> RoundTrip:
    """Decode `ids` (default: the text encoded without special tokens) and mark what differs."""
    compared = text[:MAX_ROUND_TRIP_CHARS]
    tokenizer = loaded.tokenizer
    with loaded.lock:
        if ids is None:
            ids = tokenizer(compared, add_special_tokens=False, verbose=False)["input_ids"]
        decoded = tokenizer.decode(ids, skip_special_tokens=False)
    return RoundTrip(decoded, diff_pieces(compared, decoded, tokenizer.unk_token), len(compared))


@lru_cache(maxsize=4096)
def _key(char: str) -> str:
    """What two characters are aligned on: case and accents do not count."""
    return strip_accents(char).lower()


def align(original: str, decoded: str, confirm: int = 2, lookahead: int = 24) -> list[tuple[int, int]]:
    """Pairs (i, j) of non-space characters of `original` and `decoded` that correspond.

    A greedy walk that re-synchronises within a short look-ahead once `confirm` characters
    agree again: linear on real text, where difflib is quadratic on repetitive text.
    """
    a = [(index, _key(char)) for index, char in enumerate(original) if not char.isspace()]
    b = [(index, _key(char)) for index, char in enumerate(decoded) if not char.isspace()]
    a = [item for item in a if item[1]]  # a lone combining accent has no key: it is simply dropped
    b = [item for item in b if item[1]]

    def agree(i: int, j: int) -> bool:
        return all(i + k < len(a) and j + k < len(b) and a[i + k][1] == b[j + k][1] for k in range(confirm)) or (
            i + 1 == len(a) and j + 1 == len(b) and a[i][1] == b[j][1]
        )

    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i][1] == b[j][1]:
            pairs.append((a[i][0], b[j][0]))
            i, j = i + 1, j + 1
            continue
        for total in range(1, 2 * lookahead + 1):
            found = next(
                (
                    (di, total - di)
                    for di in range(max(0, total - lookahead), min(total, lookahead) + 1)
                    if agree(i + di, j + total - di)
                ),
                None,
            )
            if found:
                i, j = i + found[0], j + found[1]
                break
        else:
            break
    return pairs


def diff_pieces(original: str, decoded: str, unk_token: str | None) -> list[Piece]:
    # Runs as index ranges (a0, a1, b0, b1, kind); neighbours of one kind are joined before slicing.
    runs: list[list] = []

    def add(a0: int, a1: int, b0: int, b1: int, kind: str | None) -> None:
        if runs and runs[-1][4] == kind and runs[-1][1] == a0 and runs[-1][3] == b0:
            runs[-1][1], runs[-1][3] = a1, b1
        else:
            runs.append([a0, a1, b0, b1, kind])

    previous_i = previous_j = 0
    for i, j in align(original, decoded) + [(len(original), len(decoded))]:
        gap_a, gap_b = original[previous_i:i], decoded[previous_j:j]
        if gap_a or gap_b:
            add(previous_i, i, previous_j, j, None if gap_a == gap_b else classify(gap_a, gap_b, unk_token))
        if i < len(original):
            a, b = original[i], decoded[j]
            add(i, i + 1, j, j + 1, None if a == b else classify(a, b, unk_token))
        previous_i, previous_j = i + 1, j + 1
    return [Piece(original[a0:a1], decoded[b0:b1], kind) for a0, a1, b0, b1, kind in runs]
