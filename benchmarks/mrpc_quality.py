"""Quality check: a workbench run against the course's Trainer recipe on GLUE MRPC.

Same model (the embedded encoder), same data files, same settings (batch 16, learning
rate 5e-5, 3 epochs, seed 42, linear schedule, no warm-up, no weight decay). The goal:
the workbench run's validation accuracy and F1 within one point of Trainer's.

    python benchmarks/mrpc_quality.py [--which both|trainer|workbench] [--mrpc DIR]

Takes several minutes per run on a CPU; prints a table at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SETTINGS = {"batch_size": 16, "learning_rate": 5e-5, "epochs": 3, "seed": 42, "max_length": 512}


def default_mrpc_dir() -> Path:
    for candidate in (ROOT.parent / "shared" / "data" / "glue" / "mrpc", Path("/work/shared/data/glue/mrpc")):
        if candidate.is_dir():
            return candidate
    raise SystemExit("MRPC not found; pass --mrpc DIR")


def run_trainer(mrpc: Path) -> dict:
    """The course's chapter 3 recipe (Trainer, DataCollatorWithPadding, evaluate), on local files."""
    import numpy as np
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from workbench.core.embedded import embedded_model_path
    from workbench.core.tasks.metric_set import MetricSet
    from workbench.training.data import load_raw

    checkpoint = str(embedded_model_path())
    raw = load_raw({"train_file": str(mrpc / "train.tsv"), "validation_file": str(mrpc / "dev.tsv")})
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)

    def tokenize_function(example):
        return tokenizer(example["#1 String"], example["#2 String"], truncation=True, max_length=SETTINGS["max_length"])

    tokenized = raw.map(tokenize_function, batched=True).rename_column("Quality", "labels")
    tokenized = tokenized.remove_columns(["#1 ID", "#2 ID", "#1 String", "#2 String"])
    set_seed(SETTINGS["seed"])
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=2)
    metrics = MetricSet(["accuracy", "f1"], num_labels=2)

    def compute_metrics(eval_preds):
        logits, labels = eval_preds
        return metrics.compute(np.argmax(logits, axis=-1).tolist(), labels.tolist())

    with tempfile.TemporaryDirectory() as output_dir:
        args = TrainingArguments(
            output_dir,
            eval_strategy="epoch",
            save_strategy="no",
            report_to="none",
            logging_steps=50,
            per_device_train_batch_size=SETTINGS["batch_size"],
            per_device_eval_batch_size=32,
            learning_rate=SETTINGS["learning_rate"],
            num_train_epochs=SETTINGS["epochs"],
            seed=SETTINGS["seed"],
            disable_tqdm=True,
        )
        trainer = Trainer(
            model,
            args,
            train_dataset=tokenized["train"],
            eval_dataset=tokenized["validation"],
            data_collator=DataCollatorWithPadding(tokenizer=tokenizer),
            processing_class=tokenizer,
            compute_metrics=compute_metrics,
        )
        started = time.perf_counter()
        trainer.train()
        runtime = time.perf_counter() - started
        result = trainer.evaluate()
    return {"accuracy": result["eval_accuracy"], "f1": result["eval_f1"], "runtime_s": runtime}


def run_workbench(mrpc: Path) -> dict:
    from workbench.training import runs
    from workbench.training.spec import default_spec

    spec = default_spec(data=str(mrpc / "train.tsv"))
    spec["data"].update(
        validation_file=str(mrpc / "dev.tsv"),
        text_column="#1 String",
        text_pair_column="#2 String",
        label_column="Quality",
        max_length=SETTINGS["max_length"],
    )
    spec["training"].update(
        per_device_train_batch_size=SETTINGS["batch_size"],
        learning_rate=SETTINGS["learning_rate"],
        num_train_epochs=float(SETTINGS["epochs"]),
        seed=SETTINGS["seed"],
        logging_steps=50,
        metrics=["accuracy", "f1"],
        save_total_limit=1,
    )
    runs_dir = Path(tempfile.mkdtemp(prefix="wb-mrpc-"))
    info = runs.launch_run(spec, runs_dir)
    print(f"workbench run {info.path}", flush=True)
    while runs.read_run(info.path).is_active:
        time.sleep(2)
    summary = runs.read_summary(info.path) or {}
    if summary.get("status") != "finished":
        raise SystemExit(f"the workbench run ended {summary.get('status')}: see {info.path / 'stdout.log'}")
    final = summary["final_metrics"]
    return {
        "accuracy": final["accuracy"],
        "f1": final["f1"],
        "runtime_s": summary["train_runtime_s"],
        "run": str(info.path),
    }


def main() -> int:
    os.environ.setdefault("WORKBENCH_SPARE_RUN", "0")  # no spare run processes: every row starts as a first run does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--which", choices=["both", "trainer", "workbench"], default="both")
    parser.add_argument("--mrpc", type=Path, default=None)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    mrpc = args.mrpc or default_mrpc_dir()
    results = {}
    if args.which in ("both", "workbench"):
        results["workbench"] = run_workbench(mrpc)
        print("workbench", results["workbench"], flush=True)
    if args.which in ("both", "trainer"):
        results["trainer"] = run_trainer(mrpc)
        print("trainer", results["trainer"], flush=True)
    print(
        f"\nMRPC validation, embedded encoder, batch {SETTINGS['batch_size']}, lr {SETTINGS['learning_rate']},"
        f" {SETTINGS['epochs']} epochs, seed {SETTINGS['seed']}"
    )
    print(f"{'':<12}{'accuracy':>10}{'F1':>10}{'train s':>10}")
    for name, result in results.items():
        print(f"{name:<12}{result['accuracy'] * 100:>10.2f}{result['f1'] * 100:>10.2f}{result['runtime_s']:>10.0f}")
    if len(results) == 2:
        gap_accuracy = (results["workbench"]["accuracy"] - results["trainer"]["accuracy"]) * 100
        gap_f1 = (results["workbench"]["f1"] - results["trainer"]["f1"]) * 100
        verdict = "within one point" if abs(gap_accuracy) <= 1 and abs(gap_f1) <= 1 else "NOT within one point"
        print(f"{'gap':<12}{gap_accuracy:>+10.2f}{gap_f1:>+10.2f}   {verdict}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
