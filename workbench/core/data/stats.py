"""Column statistics: label distribution, text lengths in characters and tokens, how much
`max_length` truncates, and how much padding dynamic versus fixed-length batches waste."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.core.data.features import MAX_INT_CLASSES
from workbench.core.data.labels import require_column
from workbench.core.data.rows import RowSource, rows_of

if TYPE_CHECKING:
    import numpy as np
    from datasets import Dataset

TOKEN_BATCH = 2_000
EMPTY = "∅ (empty)"


@dataclass(frozen=True)
class Histogram:
    edges: list[int]  # bin i holds lengths in [edges[i], edges[i+1])
    counts: list[int]


@dataclass(frozen=True)
class LengthSummary:
    count: int
    minimum: int
    mean: float
    median: float
    p95: float
    maximum: int
    histogram: Histogram


@dataclass(frozen=True)
class PaddingWaste:
    dynamic: float  # share of padded positions with per-batch padding (batches in dataset order)
    grouped: float  # ... when batches group examples of similar length (group_by_length)
    fixed: float  # ... when every example is padded to max_length


def label_distribution(dataset: Dataset | RowSource, column: str, bins: int = 12) -> list[tuple[str, int]]:
    """(label, count): classes most frequent first, class-label ids shown by name; a regression
    target (floats, or integers that `labels.infer_labels` calls a score) as a histogram of at
    most `bins` ranges of one round width, in order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dataset = rows_of(dataset)
    require_column(dataset, column)
    values = dataset.column(column)
    if pa.types.is_floating(values.type):
        return float_histogram(values, bins)
    if pa.types.is_integer(values.type) and dataset.class_names(column) is None:
        low = pc.min(values).as_py()
        if (low is not None and low < 0) or len(pc.unique(values)) > MAX_INT_CLASSES:  # a score: regression
            return float_histogram(values.cast(pa.float64()), bins)
    counts = pc.value_counts(values).to_pylist()
    names = dataset.class_names(column)
    rows = []
    for item in counts:
        value = item["values"]
        if value is None:
            label = EMPTY
        elif names is not None and 0 <= value < len(names):
            label = names[value]
        else:
            label = str(value)
        rows.append((label, int(item["counts"])))
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def float_histogram(values, bins: int = 12) -> list[tuple[str, int]]:
    """Counts of float values in ranges of one round width (0.5, 1, 2.5 …), labelled "0–0.5";
    the last range includes its upper end; empty cells are counted apart."""
    import numpy as np
    import pyarrow.compute as pc

    empty = values.null_count
    data = np.asarray(pc.drop_null(values).to_numpy(zero_copy_only=False), dtype=np.float64)
    data = data[np.isfinite(data)]
    rows: list[tuple[str, int]] = []
    if len(data):
        low, high = float(data.min()), float(data.max())
        if low == high:
            rows.append((short_number(low), len(data)))
        else:
            width = round_width((high - low) / bins)
            start = np.floor(low / width) * width
            count = max(1, int(np.ceil((high - start) / width - 1e-9)))
            edges = start + width * np.arange(count + 1)
            counts, _ = np.histogram(data, bins=edges)
            rows += [(f"{short_number(edges[i])}–{short_number(edges[i + 1])}", int(n)) for i, n in enumerate(counts)]
    if empty:
        rows.append((EMPTY, int(empty)))
    return rows


def round_width(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `raw`."""
    import math

    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= raw * (1 - 1e-9))


def short_number(value: float) -> str:
    """2.4000000953674316 (a float32 read back) -> "2.4"; 5.0 -> "5"; 0.000123456 -> "0.0001235"."""
    return f"{value:.4g}" if value else "0"


def char_lengths(dataset: Dataset | RowSource, column: str, *, batch_rows: int = 65_536) -> np.ndarray:
    """Length in characters of every value (vectorised in Arrow, a batch at a time; empty cells count 0)."""
    import numpy as np
    import pyarrow.compute as pc

    dataset = rows_of(dataset)
    require_column(dataset, column)
    parts = [
        np.asarray(pc.fill_null(pc.utf8_length(table.column(column)), 0).to_numpy(), dtype=np.int64)
        for table in dataset.batches([column], batch_rows)
    ]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def iter_token_lengths(
    dataset: Dataset | RowSource,
    tokenizer,
    text_column: str,
    pair_column: str | None = None,
    *,
    batch_size: int = TOKEN_BATCH,
) -> Iterator[tuple[int, np.ndarray]]:
    """(rows done, token counts of this batch) with special tokens, no truncation; stop any time."""
    import numpy as np

    dataset = rows_of(dataset)
    require_column(dataset, text_column)
    require_column(dataset, pair_column)
    columns = [text_column] + ([pair_column] if pair_column else [])
    encode = _fast_encoder(tokenizer)
    done = 0
    for table in dataset.batches(columns, batch_size):
        texts = [text or "" for text in table.column(text_column).to_pylist()]
        pairs = [text or "" for text in table.column(pair_column).to_pylist()] if pair_column else None
        done += table.num_rows
        yield done, np.asarray(encode(texts, pairs), dtype=np.int64)


def token_lengths(dataset, tokenizer, text_column, pair_column=None, progress: Callable[[int], None] | None = None):
    import numpy as np

    parts = []
    for done, lengths in iter_token_lengths(dataset, tokenizer, text_column, pair_column):
        parts.append(lengths)
        if progress:
            progress(done)
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _fast_encoder(tokenizer) -> Callable[[list[str], list[str] | None], list[int]]:
    """The Rust tokenizer's batch encoder without truncation or padding, else the Python API."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        from tokenizers import Tokenizer

        rust = Tokenizer.from_str(backend.to_str())  # a copy: never change the shared tokenizer's settings
        rust.no_truncation()
        rust.no_padding()
        encode_batch = getattr(rust, "encode_batch_fast", rust.encode_batch)

        def encode(texts, pairs):
            inputs = list(zip(texts, pairs)) if pairs is not None else texts
            return [len(encoding.ids) for encoding in encode_batch(inputs, add_special_tokens=True)]

        return encode

    def encode_slow(texts, pairs):
        encoded = tokenizer(texts, pairs, truncation=False, return_attention_mask=False)
        return [len(ids) for ids in encoded["input_ids"]]

    return encode_slow


def summarize(lengths: np.ndarray, bins: int = 20) -> LengthSummary:
    import numpy as np

    if len(lengths) == 0:
        return LengthSummary(0, 0, 0.0, 0.0, 0.0, 0, Histogram([0, 1], [0]))
    return LengthSummary(
        count=int(len(lengths)),
        minimum=int(lengths.min()),
        mean=float(lengths.mean()),
        median=float(np.median(lengths)),
        p95=float(np.percentile(lengths, 95)),
        maximum=int(lengths.max()),
        histogram=histogram(lengths, bins),
    )


def histogram(lengths: np.ndarray, bins: int = 20) -> Histogram:
    """Integer-width bins from the shortest to the longest value."""
    import numpy as np

    low, high = int(lengths.min()), int(lengths.max())
    width = max(1, -(-(high - low + 1) // bins))
    edges = list(range(low, high + width + 1, width))
    counts, _ = np.histogram(lengths, bins=edges)
    return Histogram(edges, [int(c) for c in counts])


def truncated_share(lengths: np.ndarray, max_length: int) -> float:
    return float((lengths > max_length).mean()) if len(lengths) else 0.0


def padding_waste(lengths: np.ndarray, batch_size: int, max_length: int) -> PaddingWaste:
    """Share of the batch tensors that is padding, after truncation to max_length."""
    import numpy as np

    if len(lengths) == 0:
        return PaddingWaste(0.0, 0.0, 0.0)
    capped = np.minimum(lengths, max_length)
    real = capped.sum()

    def batched_cells(values: np.ndarray) -> int:
        total = 0
        for start in range(0, len(values), batch_size):
            chunk = values[start : start + batch_size]
            total += int(chunk.max()) * len(chunk)
        return total

    dynamic = 1 - real / batched_cells(capped)
    grouped = 1 - real / batched_cells(np.sort(capped))
    fixed = 1 - real / (max_length * len(capped))
    return PaddingWaste(float(dynamic), float(grouped), float(fixed))
