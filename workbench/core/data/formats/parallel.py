"""Parallel text: `train.en` beside `train.de`, line i of one the translation of line i of the other.

Opened from either file, the pair becomes one row per line with a column per language (`en`, `de`),
read by the seq2seq task's own reader (`core.tasks.seq2seq`), so the Datasets pane and a run see the
same rows and refuse the same mismatched files.
"""

from __future__ import annotations

from pathlib import Path

NAME = "parallel"


def sniff(path: Path) -> bool:
    from workbench.core.tasks.seq2seq import parallel_pair

    return parallel_pair(Path(path)) is not None


def read_files(paths: list[Path]):
    import datasets

    from workbench.core.tasks.seq2seq import _suffix, parallel_pair, read_parallel

    columns: dict[str, list[str]] = {}
    for path in paths:
        pair = parallel_pair(Path(path))
        if pair is None:
            continue
        source, target = pair
        sources, targets = read_parallel(source, target, key="file")
        columns.setdefault(_suffix(source), []).extend(sources)
        columns.setdefault(_suffix(target), []).extend(targets)
    return datasets.Dataset.from_dict(columns)
