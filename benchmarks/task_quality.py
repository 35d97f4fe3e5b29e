"""Quality per task: a workbench run against the course's Trainer recipe, same model, data,
hyper-parameters and seed, metrics printed per epoch for both.

    python benchmarks/task_quality.py --task ner|qa|mlm|clm|translation|summarization [task options]

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
    args, rest = parser.parse_known_args(argv)
    module_name, fixed, metric, higher = TASKS[args.task]
    module = importlib.import_module(module_name)
    task_args = module.build_parser().parse_args(fixed + rest) if hasattr(module, "build_parser") else None
    rows = module.run(task_args)
    print_table(rows, metric, higher)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


def print_table(rows: list[dict], metric: str, higher: bool) -> None:
    keys = sorted({key for row in rows for key in row} - {"side", "epoch"})
    print(f"{'side':<12}{'epoch':>7}" + "".join(f"{key:>14}" for key in keys))
    for row in rows:
        values = "".join(f"{_fmt(row.get(key)):>14}" for key in keys)
        print(f"{row.get('side', ''):<12}{_fmt(row.get('epoch')):>7}" + values)
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
