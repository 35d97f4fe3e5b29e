"""Training a new tokenizer from the current one with `train_new_from_iterator`."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from workbench.core.errors import WorkbenchError
from workbench.core.tokenizer.loader import LoadedTokenizer, wrap

BATCH_SIZE = 1000
Progress = Callable[[int, int], None]  # (texts read, texts in all)


@dataclass(frozen=True)
class Corpus:
    """Texts to train on, read into memory (a text file or one column of a dataset)."""

    texts: list[str]
    description: str


def corpus_from_text_file(path: str | Path) -> Corpus:
    """One text per non-empty line."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise WorkbenchError(f"No text file at {path}")
    try:
        with path.open(encoding="utf-8-sig") as handle:
            texts = [line.rstrip("\n") for line in handle if line.strip()]
    except UnicodeDecodeError as error:
        raise WorkbenchError(f"{path}: not UTF-8 text (byte {error.start})") from error
    if not texts:
        raise WorkbenchError(f"{path} holds no text")
    return Corpus(texts, f"{path.name}: {len(texts):,} lines")


def corpus_from_dataset(info: dict, column: str | None = None) -> Corpus:
    """One column of the dataset the Datasets pane has open (`app.active_dataset`)."""
    path = Path(str(info.get("path", ""))).expanduser()
    column = column or info.get("text_column")
    if not column:
        raise WorkbenchError("Which column? The dataset names no text column", hint="Type the column name")
    rows = _read_rows(path)
    if not rows:
        raise WorkbenchError(f"{path} holds no rows")
    if column not in rows[0]:
        raise WorkbenchError(f"{path}: no column {column!r}", hint=f"Columns: {', '.join(rows[0])}")
    texts = [str(row[column]) for row in rows if row.get(column) not in (None, "")]
    return Corpus(texts, f"{path.name} [{column}]: {len(texts):,} texts")


def _read_rows(path: Path) -> list[dict]:
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir() if p.suffix in {".tsv", ".csv", ".jsonl", ".json", ".parquet", ".arrow"}
        )
        if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            return _rows_from_saved_dataset(path)
        if not files:
            raise WorkbenchError(f"{path}: no data files (tsv, csv, jsonl, json, parquet)")
        return [row for file in files for row in _read_rows(file)]
    if not path.is_file():
        raise WorkbenchError(f"No dataset at {path}")
    if path.suffix in {".tsv", ".csv"}:
        # QUOTE_NONE for TSV: GLUE files carry unbalanced quotes inside fields.
        delimiter, quoting = ("\t", csv.QUOTE_NONE) if path.suffix == ".tsv" else (",", csv.QUOTE_MINIMAL)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle, delimiter=delimiter, quoting=quoting))
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    import datasets

    kind = {".json": "json", ".parquet": "parquet", ".arrow": "arrow"}.get(path.suffix)
    if kind is None:
        raise WorkbenchError(
            f"{path}: cannot read {path.suffix or 'this'} files", hint="Use tsv, csv, jsonl, json or parquet"
        )
    return list(datasets.load_dataset(kind, data_files=str(path), split="train"))


def _rows_from_saved_dataset(path: Path) -> list[dict]:
    import datasets

    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        loaded = loaded["train"] if "train" in loaded else next(iter(loaded.values()))
    return list(loaded)


def batches(texts: list[str], progress: Progress | None) -> Iterator[list[str]]:
    for start in range(0, len(texts), BATCH_SIZE):
        chunk = texts[start : start + BATCH_SIZE]
        yield chunk
        if progress is not None:
            progress(start + len(chunk), len(texts))


def train_new_tokenizer(
    base: LoadedTokenizer, corpus: Corpus, vocab_size: int, output_dir: str | Path, progress: Progress | None = None
) -> LoadedTokenizer:
    """Same pipeline and special tokens as `base`, new vocabulary; saved to `output_dir`."""
    if vocab_size < 10:
        raise WorkbenchError(f"vocab size: {vocab_size} is too small", hint="Try 1,000 or more")
    output_dir = Path(output_dir).expanduser()
    if output_dir.exists() and any(output_dir.iterdir()):
        raise WorkbenchError(f"{output_dir} is not empty", hint="Pick a new folder; nothing was overwritten")
    with base.lock:
        trained = base.tokenizer.train_new_from_iterator(
            batches(corpus.texts, progress),
            vocab_size=vocab_size,
            length=len(corpus.texts),
            show_progress=False,  # the Rust progress bar would write over the TUI
        )
    output_dir.mkdir(parents=True, exist_ok=True)
    trained.save_pretrained(str(output_dir))
    return wrap(trained, str(output_dir))
