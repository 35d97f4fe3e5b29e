"""A run's kept predictions: one Parquet file per evaluation, `predictions/step-<N>.parquet`.

Columns are the task's records (`id`, `input`, `gold`, `predicted`, `score`, `loss`, …). Only the
newest `keep` files stay, so a long run with frequent evaluations does not fill the disk.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from workbench.core.runs.folder import PREDICTIONS_DIR

FILE_PATTERN = re.compile(r"step-(\d+)\.parquet$")


def path_for(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / PREDICTIONS_DIR / f"step-{step}.parquet"


def write(run_dir: Path, step: int, records: dict[str, list], *, keep: int) -> Path:
    """Write one evaluation's records atomically (a temporary file renamed), then drop the oldest."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = path_for(run_dir, step)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({name: _column(values) for name, values in records.items()})
    temporary = path.with_suffix(".parquet.partial")
    pq.write_table(table, temporary)
    os.replace(temporary, path)
    rotate(run_dir, keep)
    return path


def _column(values: list):
    """Plain values as they are; nested ones (spans, probabilities) when Arrow can type them."""
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if value is None else str(value) for value in values])


def listing(run_dir: Path) -> list[tuple[int, Path]]:
    """(step, path) of the kept predictions, oldest first."""
    folder = Path(run_dir) / PREDICTIONS_DIR
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = FILE_PATTERN.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def rotate(run_dir: Path, keep: int) -> None:
    kept = listing(run_dir)
    for _, path in kept[: max(0, len(kept) - keep)]:
        path.unlink(missing_ok=True)


def read(path: Path):
    """The records as a pyarrow Table."""
    import pyarrow.parquet as pq

    return pq.read_table(path)
