"""Issue 20's speed goals, in one invocation:

(a) the Errors view's analysis on 10,000 prediction rows (goal: under 1 s in all): reading the
    Parquet file, the confusion matrix, per-class scores, the worst examples (sorted, then filtered
    by a gold/predicted cell), flips against a second model's 10,000 rows and the card's text;
(b) `workbench eval`'s runner (`training.evaluate_model.evaluate`) against `Trainer.evaluate()` on
    MRPC validation with the embedded encoder given a 2-class head, at the same batch size, max
    length 128, padding to a multiple of 8, the same metrics (accuracy, F1 through the same
    `evaluate` modules). Goal: workbench no slower.

For (b) each side is timed whole (reading and tokenizing the file, loading the model, the pass and
the metrics) and for the evaluation pass alone (workbench: `EvalReport.timings["evaluate_s"]`;
Trainer: the `evaluate()` call). One warm-up of each side first (imports, the datasets cache),
then `--repeats` alternating rounds; the median is printed. Both sides' accuracy is printed too:
they must agree.

    python benchmarks/eval_speed.py [--data /work/shared/data/glue/mrpc/dev.tsv] [--batch-size 32]
        [--repeats 3] [--device auto] [--model FOLDER] [--skip-runner] [--json FILE]

Measured 2026-12-02 on one H200 (16 CPU cores; torch 2.11.0+cu130, transformers 5.17.0), the
embedded MiniLM carried as `.bench/minilm-fp16` (`--model .bench/minilm-fp16 --data .bench/dev.tsv
--repeats 5`), medians of 5:

    (a) 10,000 rows: 23-30 ms in all (read 3.5, matrix 3-5, worst examples 4-5, flips 12-16 ms)
    (b) batch 32:  workbench eval 0.304 s whole (pass 0.154 s), Trainer 0.549 s (evaluate() 0.188 s)
        batch 128: workbench eval 0.270 s whole (pass 0.114 s), Trainer 0.422 s (evaluate() 0.099 s)
    Same accuracy (0.4093) and F1 (0.3573) on both sides.

Before the runner stopped datasets from hashing the whole tokenizer for each split's `map`, the
whole was 0.742 s (1.4x Trainer): 0.49 s of it reading and preparing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MRPC_DEV = "/work/shared/data/glue/mrpc/dev.tsv"
MAX_LENGTH = 128


# -- (a) the analysis ------------------------------------------------------------------------------


def synthetic_predictions(count: int, seed: int, labels: list[str]):
    import pyarrow as pa

    rng = random.Random(seed)
    gold = [rng.choice(labels) for _ in range(count)]
    predicted = [value if rng.random() < 0.8 else rng.choice(labels) for value in gold]
    return pa.table(
        {
            "id": list(range(count)),
            "input": [f"sentence number {index} with a few words in it" for index in range(count)],
            "input_pair": [f"another sentence {index}" for index in range(count)],
            "gold": gold,
            "predicted": predicted,
            "score": [rng.random() for _ in range(count)],
            "loss": [rng.random() * 4 for _ in range(count)],
        }
    )


def time_analysis(rows: int, repeats: int) -> dict:
    import pyarrow.parquet as pq

    from workbench.core.evaluation import analysis

    labels = ["entailment", "neutral", "contradiction"]
    folder = Path(tempfile.mkdtemp(prefix="eval-speed-"))
    path_a, path_b = folder / "a.parquet", folder / "b.parquet"
    pq.write_table(synthetic_predictions(rows, 0, labels), path_a)
    b = synthetic_predictions(rows, 1, labels)
    b = b.set_column(b.schema.get_field_index("gold"), "gold", synthetic_predictions(rows, 0, labels).column("gold"))
    pq.write_table(b, path_b)
    rounds = []
    for _ in range(repeats):
        steps = {}
        start = time.perf_counter()
        table = analysis.read_predictions(path_a)
        steps["read"] = time.perf_counter() - start
        mark = time.perf_counter()
        matrix = analysis.confusion_matrix(table)
        steps["confusion_matrix"] = time.perf_counter() - mark
        mark = time.perf_counter()
        analysis.per_class_scores(matrix)
        steps["per_class_scores"] = time.perf_counter() - mark
        mark = time.perf_counter()
        analysis.worst_examples(table, by="loss", limit=200)
        analysis.worst_examples(table, by="score", gold="neutral", predicted="contradiction", limit=200)
        steps["worst_examples (2 sorts)"] = time.perf_counter() - mark
        mark = time.perf_counter()
        result = analysis.flips(table, analysis.read_predictions(path_b))
        steps["flips (+ read B)"] = time.perf_counter() - mark
        mark = time.perf_counter()
        analysis.confusion_matrix_text(matrix)
        analysis.per_class_table_markdown(analysis.per_class_scores(matrix))
        steps["card text"] = time.perf_counter() - mark
        steps["total"] = time.perf_counter() - start
        rounds.append(steps)
    best = min(rounds, key=lambda steps: steps["total"])
    return {"rows": rows, "best_of": repeats, "seconds": best, "flips": result.count}


# -- (b) workbench eval against Trainer.evaluate() ----------------------------------------------------


def make_classifier(folder: Path, base: str | None) -> Path:
    """The embedded encoder (or `base`) with a fresh 2-class head (seed 0), saved with its tokenizer."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from workbench.core.embedded import embedded_model_path

    source = base or str(embedded_model_path())
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        source, num_labels=2, id2label={0: "0", 1: "1"}, label2id={"0": 0, "1": 1}, dtype=torch.float32
    )
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    return folder


def run_workbench(model: Path, data: str, batch_size: int, device: str) -> dict:
    from workbench.training.evaluate_model import evaluate

    start = time.perf_counter()
    report = evaluate(str(model), data, batch_size=batch_size, max_length=MAX_LENGTH, write=False, device=device)
    whole = time.perf_counter() - start
    return {
        "whole_s": whole,
        "pass_s": report.timings["evaluate_s"],
        "data_s": report.timings["data_s"],
        "model_s": report.timings["model_s"],
        "accuracy": report.metrics.get("accuracy"),
        "f1": report.metrics.get("f1"),
        "eval_loss": report.metrics["eval_loss"],
        "examples": report.examples,
    }


def run_trainer(model_folder: Path, data: str, batch_size: int, device: str) -> dict:
    """What a user writes: the file read (with workbench's TSV reader, as MRPC's quotes need), the
    pairs tokenized, DataCollatorWithPadding, Trainer.evaluate() with compute_metrics."""
    import numpy as np
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        PrinterCallback,
        Trainer,
        TrainingArguments,
    )

    from workbench.core.data.labels import guess_columns
    from workbench.core.data.loading import open_dataset
    from workbench.core.tasks.metric_set import MetricSet

    start = time.perf_counter()
    opened = open_dataset(data)
    dataset = opened.splits[next(iter(opened.splits))]
    guess = guess_columns(dataset)
    tokenizer = AutoTokenizer.from_pretrained(model_folder)

    def tokenize(batch):
        return tokenizer(batch[guess.text], batch[guess.pair], truncation=True, max_length=MAX_LENGTH)

    keep = [guess.label]
    dataset = dataset.map(tokenize, batched=True, remove_columns=[c for c in dataset.column_names if c not in keep])
    dataset = dataset.rename_column(guess.label, "labels")
    model = AutoModelForSequenceClassification.from_pretrained(model_folder)
    metrics = MetricSet(["accuracy", "f1"], 2)

    def compute_metrics(prediction):
        logits, labels = prediction
        return metrics.compute(np.argmax(logits, axis=-1).tolist(), labels.tolist())

    arguments = TrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="trainer-eval-"),
        per_device_eval_batch_size=batch_size,
        report_to="none",
        use_cpu=device == "cpu",
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=model,
        args=arguments,
        data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8),
        compute_metrics=compute_metrics,
    )
    trainer.remove_callback(PrinterCallback)  # no metrics dict printed per evaluation
    mark = time.perf_counter()
    result = trainer.evaluate(eval_dataset=dataset)
    end = time.perf_counter()
    return {
        "whole_s": end - start,
        "pass_s": end - mark,
        "accuracy": result.get("eval_accuracy"),
        "f1": result.get("eval_f1"),
        "eval_loss": result.get("eval_loss"),
        "examples": len(dataset),
    }


def time_runner(args) -> dict:
    import torch
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    folder = make_classifier(Path(tempfile.mkdtemp(prefix="eval-speed-model-")), args.model)
    sides = {"workbench eval": run_workbench, "Trainer.evaluate": run_trainer}
    for run in sides.values():  # warm-up: imports, the datasets cache, CUDA context
        run(folder, args.data, args.batch_size, device)
    results: dict[str, list[dict]] = {name: [] for name in sides}
    for index in range(args.repeats):
        order = list(sides.items()) if index % 2 == 0 else list(reversed(sides.items()))
        for name, run in order:
            results[name].append(run(folder, args.data, args.batch_size, device))
    summary = {}
    for name, rounds in results.items():
        summary[name] = {
            "whole_s": statistics.median(r["whole_s"] for r in rounds),
            "pass_s": statistics.median(r["pass_s"] for r in rounds),
            "data_s": statistics.median(r.get("data_s", 0.0) for r in rounds),
            "model_s": statistics.median(r.get("model_s", 0.0) for r in rounds),
            "accuracy": rounds[-1]["accuracy"],
            "f1": rounds[-1]["f1"],
            "eval_loss": rounds[-1]["eval_loss"],
            "examples": rounds[-1]["examples"],
        }
    return {"device": device, "batch_size": args.batch_size, "repeats": args.repeats, "sides": summary}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=MRPC_DEV)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--model", help="the encoder to put a head on (default: the embedded one)")
    parser.add_argument("--skip-runner", action="store_true", help="only (a)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    analysis = time_analysis(args.rows, repeats=5)
    print(f"(a) analysis of {analysis['rows']:,} prediction rows (best of {analysis['best_of']}):")
    for step, seconds in analysis["seconds"].items():
        print(f"    {step:<26} {seconds * 1000:8.1f} ms")
    verdict = "under" if analysis["seconds"]["total"] < 1.0 else "OVER"
    print(f"    goal: under 1 s in all -> {verdict}")
    results = {"analysis": analysis}
    if not args.skip_runner:
        runner = time_runner(args)
        results["runner"] = runner
        print(
            f"(b) MRPC validation ({Path(args.data).name}), embedded encoder + 2-class head,"
            f" batch {runner['batch_size']}, {runner['device']}, median of {runner['repeats']}:"
        )
        print(f"    {'':<18} {'whole s':>8} {'pass s':>8} {'examples':>8} {'accuracy':>9} {'f1':>7} {'loss':>7}")
        for name, side in runner["sides"].items():
            print(
                f"    {name:<18} {side['whole_s']:8.3f} {side['pass_s']:8.3f} {side['examples']:>8}"
                f" {side['accuracy']:9.4f} {side['f1']:7.4f} {side['eval_loss']:7.4f}"
            )
        ours, theirs = runner["sides"]["workbench eval"], runner["sides"]["Trainer.evaluate"]
        print(
            f"    workbench eval's whole: reading + preparing {ours['data_s']:.3f} s, loading the model"
            f" {ours['model_s']:.3f} s, the pass and metrics {ours['pass_s']:.3f} s"
        )
        print(
            f"    workbench / Trainer: whole {ours['whole_s'] / theirs['whole_s']:.2f}x,"
            f" pass {ours['pass_s'] / theirs['pass_s']:.2f}x (below 1 = faster)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
