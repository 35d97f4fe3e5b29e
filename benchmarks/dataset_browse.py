"""Dataset browsing benchmark: a generated 1,000,000-row Parquet file.

Measures opening it (first open builds the Arrow cache; a second open reuses it), reading the
last page and random pages through `RowPager`, searching a word over the whole split, the
process RSS growth, and the token-length histogram over 67,000 short sentences (rows/s).
Goals: open < 0.5 s, each page < 50 ms, RSS growth < 150 MB.

    python benchmarks/dataset_browse.py [--rows 1000000] [--sentences 67000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = (
    "the a model data token train fast slow river cloud music paper glass ocean pixel film story"
    " actor scene plot quiet loud bright dark happy sad green blue city night morning"
).split()


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def make_parquet(path: Path, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    words = np.array(WORDS)
    writer = None
    for start in range(0, rows, 200_000):
        count = min(200_000, rows - start)
        picks = words[rng.integers(0, len(words), size=(count, 12))]
        texts = [" ".join(row) for row in picks]
        table = pa.table(
            {
                "id": np.arange(start, start + count),
                "text": texts,
                "label": rng.integers(0, 3, count),
                "score": rng.random(count),
            }
        )
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def cpu_calibration() -> float:
    """Seconds for a fixed pure-Python loop (about 0.2 s on an idle modern core): read the
    other numbers against it when the machine is busy."""
    start = time.perf_counter()
    sum(range(10**7))
    return time.perf_counter() - start


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sentences", type=int, default=67_000)
    parser.add_argument("--word", default="ocean pixel")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        os.environ["HF_DATASETS_CACHE"] = str(Path(folder) / "cache")
        path = Path(folder) / "big.parquet"
        make_parquet(path, args.rows)

        from workbench.core.data.loading import datasets_module, open_dataset
        from workbench.core.data.paging import PAGE_ROWS, RowPager
        from workbench.core.data.search import iter_search

        datasets_module()  # import cost is paid once at app level, not per open
        import numpy as np

        rss_before = rss_mb()
        first_open, opened = timed(lambda: open_dataset(path))
        cached_open, opened = timed(lambda: open_dataset(path))
        dataset = opened.splits["train"]
        assert dataset.num_rows == args.rows

        pager = RowPager(dataset)
        screen = 40
        last_page, _ = timed(lambda: pager.rows(args.rows - screen, screen))
        rng = random.Random(0)
        random_pages = []
        for _ in range(50):
            start = rng.randrange(0, args.rows - screen)
            elapsed, _ = timed(lambda: pager.rows(start, screen))
            random_pages.append(elapsed)

        def search():
            found = [step.matches for step in iter_search(dataset, args.word)]
            return int(sum(len(m) for m in found))

        search_time, hits = timed(search)
        results_pager = RowPager(dataset, np.arange(0, args.rows, 7))
        result_page, _ = timed(lambda: results_pager.rows(len(results_pager) - screen, screen))
        rss_after = rss_mb()

        from workbench.core.data import stats
        from workbench.core.data.model_tokenizer import load_tokenizer

        sentences = datasets_module().Dataset.from_dict(
            {"sentence": [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 20))) for _ in range(args.sentences)]}
        )
        tokenizer = load_tokenizer("")
        token_time, lengths = timed(lambda: stats.token_lengths(sentences, tokenizer, "sentence"))
        histogram_time, summary = timed(lambda: stats.summarize(lengths))

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:8.1f} ms"

    rows = [
        ("CPU calibration: sum(range(10**7))", ms(cpu_calibration()), "about 200 ms on an idle core"),
        ("rows", f"{args.rows:,}", ""),
        ("open (first: Parquet -> Arrow cache)", ms(first_open), "goal < 500 ms"),
        ("open (cached Arrow, memory-mapped)", ms(cached_open), "goal < 500 ms"),
        (f"last page ({screen} rows)", ms(last_page), "goal < 50 ms"),
        ("random page, median of 50", ms(sorted(random_pages)[25]), "goal < 50 ms"),
        ("random page, worst of 50", ms(max(random_pages)), "goal < 50 ms"),
        ("last page of search results (take)", ms(result_page), "goal < 50 ms"),
        (f"search {args.word!r} over all rows", ms(search_time), f"{hits:,} matches"),
        ("RSS growth (open + pages + search)", f"{rss_after - rss_before:8.1f} MB", "goal < 150 MB"),
        (f"token lengths, {args.sentences:,} sentences", ms(token_time), f"{args.sentences / token_time:,.0f} rows/s"),
        ("histogram of those lengths", ms(histogram_time), f"mean {summary.mean:.1f} tokens"),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f"page size in RowPager: {PAGE_ROWS} rows")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
