"""Quality per task: a workbench run against the course's Trainer recipe, same model, data,
hyper-parameters and seed, metrics printed per epoch for both.

    python benchmarks/task_quality.py --task ner|qa|mlm|clm|translation|summarization [task options]
    python benchmarks/task_quality.py --task clm --merge workbench.json trainer.json   # rows run apart

Each task's recipe lives in its own module (`quality_ner.py`, `quality_qa.py`, `quality_lm.py`,
`quality_seq2seq.py`), whose `run(args)` returns one row per (side, epoch); this script parses the
task's own options, runs it and prints the table and the gap on the task's main metric.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

# --task -> (module, the options it passes to that module, its main metric, higher is better)
TASKS = {
    "ner": ("quality_ner", [], "f1", True),
    "qa": ("quality_qa", [], "f1", True),
    "mlm": ("quality_lm", ["--task", "mlm"], "perplexity", False),
    "clm": ("quality_lm", ["--task", "clm"], "perplexity", False),
    "translation": ("quality_seq2seq", ["--task", "translation"], "bleu", True),
    "summarization": ("quality_seq2seq", ["--task", "summarization"], "rougeL", True),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=TASKS, required=True)
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        help="print the table and the gaps of rows written by separate runs (--which workbench, --which"
        " trainer, or LoRA rows run side by side) instead of running",
    )
    args, rest = parser.parse_known_args(argv)
    module_name, fixed, metric, higher = TASKS[args.task]
    module = importlib.import_module(module_name)
    task_args = module.build_parser().parse_args(fixed + rest) if hasattr(module, "build_parser") else None
    if args.merge:
        rows = merge_rows(args.merge)
    else:
        rows = module.run(task_args)
    print_table(rows, metric, higher)
    for line in summary_lines(module, rows, args.task):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


def merge_rows(paths: list[Path]) -> list[dict]:
    """The rows of several JSON files, in order; a missing or unreadable file is named and skipped."""
    rows: list[dict] = []
    for path in paths:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            print(f"{path}: no rows ({error})")
            continue
        rows += [row for row in loaded if isinstance(row, dict)] if isinstance(loaded, list) else []
    return rows


def summary_lines(module, rows: list[dict], task: str) -> list[str]:
    """The task module's own lines on its goals (LoRA, memory, mean gaps), where it has them."""
    summarize = getattr(module, "summarize", None)
    if summarize is None:
        return []
    if module.__name__ == "quality_seq2seq":
        return summarize(rows, task)
    return summarize(rows)


def print_table(rows: list[dict], metric: str, higher: bool) -> None:
    keys = sorted({key for row in rows for key in row} - {"side", "epoch", "run", "start_sha256"})
    widths = {key: max(14, len(key) + 2) for key in keys}
    side_width = max([12] + [len(str(row.get("side", ""))) + 2 for row in rows])
    print(f"{'side':<{side_width}}{'epoch':>7}" + "".join(f"{key:>{widths[key]}}" for key in keys))
    for row in rows:
        values = "".join(f"{_fmt(row.get(key)):>{widths[key]}}" for key in keys)
        print(f"{row.get('side', ''):<{side_width}}{_fmt(row.get('epoch')):>7}" + values)
    last = {}
    for row in rows:
        if metric in row:
            last[row.get("side")] = row[metric]
    if len(last) == 2:
        (side_a, a), (side_b, b) = last.items()
        print(f"final {metric}: {side_a} {a:.4f}, {side_b} {b:.4f}, difference {a - b:+.4f}")


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


if __name__ == "__main__":
    raise SystemExit(main())
