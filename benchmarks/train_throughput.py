"""Training throughput: the same job through Trainer and through a workbench run, side by side.

The job: the embedded encoder on the first N rows of MRPC (sentence pairs), batch 16,
max length 128, one pass, no evaluation, no checkpoints. Three ways, each repeated:

- trainer:         transformers' Trainer in this process (its default logging, no reporting)
- workbench:       a workbench run (a child via `accelerate launch`) with step events every
                   `--logging-steps` steps and a system sample every 2 s
- workbench-quiet: the same run with step events and system sampling both off

Samples/s = rows trained / training time (Trainer's train_runtime, the run's train_runtime_s:
both exclude start-up and model loading). Overhead of events and sampling = 1 - workbench/quiet.

    python benchmarks/train_throughput.py [--rows 1024] [--repeats 3] [--logging-steps 10]
                                          [--model FOLDER] [--mrpc FOLDER]

--model defaults to the embedded encoder; a folder with the same config and random weights
costs the same per step (how the GPU machine runs it: it has no copy of the embedded weights).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BATCH, MAX_LENGTH, LR, SEED = 16, 128, 5e-5, 42


MRPC_DIR: Path | None = None
MODEL: str | None = None


def mrpc_dir() -> Path:
    from mrpc_quality import default_mrpc_dir  # this folder's other MRPC benchmark

    return MRPC_DIR if MRPC_DIR is not None else default_mrpc_dir()


def trainer_samples_per_s(rows: int) -> float:
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from workbench.core.embedded import embedded_model_path
    from workbench.training.data import load_raw

    checkpoint = MODEL or str(embedded_model_path())
    raw = load_raw({"train_file": str(mrpc_dir() / "train.tsv")})["train"].select(range(rows))
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    tokenized = raw.map(
        lambda b: tokenizer(b["#1 String"], b["#2 String"], truncation=True, max_length=MAX_LENGTH),
        batched=True,
        remove_columns=["#1 ID", "#2 ID", "#1 String", "#2 String"],
    )
    tokenized = tokenized.rename_column("Quality", "labels")
    set_seed(SEED)
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=2)
    with tempfile.TemporaryDirectory() as output_dir:
        args = TrainingArguments(
            output_dir,
            per_device_train_batch_size=BATCH,
            learning_rate=LR,
            num_train_epochs=1,
            seed=SEED,
            save_strategy="no",
            eval_strategy="no",
            report_to="none",
            disable_tqdm=True,
            logging_steps=10,
        )
        trainer = Trainer(
            model,
            args,
            train_dataset=tokenized,
            data_collator=DataCollatorWithPadding(tokenizer),
            processing_class=tokenizer,
        )
        metrics = trainer.train().metrics
    return rows / metrics["train_runtime"]


def workbench_samples_per_s(rows: int, quiet: bool, logging_steps: int) -> float:
    from workbench.training import runs
    from workbench.training.spec import default_spec

    spec = default_spec(model=MODEL, data=str(mrpc_dir() / "train.tsv"))
    spec["data"].update(
        text_column="#1 String",
        text_pair_column="#2 String",
        label_column="Quality",
        max_length=MAX_LENGTH,
        max_train_samples=rows,
    )
    spec["training"].update(
        per_device_train_batch_size=BATCH,
        learning_rate=LR,
        num_train_epochs=1.0,
        seed=SEED,
        eval_strategy="no",
        metrics=[],
        logging_steps=logging_steps,
        pad_to_multiple_of=0,
    )
    spec["monitor"].update(step_events=not quiet, system_sample_interval_s=0.0 if quiet else 2.0)
    with tempfile.TemporaryDirectory() as runs_dir:
        info = runs.launch_run(spec, Path(runs_dir))
        while runs.read_run(info.path).is_active:
            time.sleep(0.5)
        summary = runs.read_summary(info.path) or {}
        if summary.get("status") != "finished":
            raise SystemExit(f"workbench run ended {summary.get('status')}:\n{runs.log_tail(info.path)}")
        return rows / summary["train_runtime_s"]


def direct_overhead(step_s: float, logging_steps: int, sample_interval_s: float = 2.0) -> dict:
    """What events and sampling cost per second of training, timed directly (robust to machine
    noise, unlike the difference of two noisy throughputs): one step event per `logging_steps`
    steps (encode, write, flush; the host reads the loss back only then) and one system sample
    (psutil over the run's processes, NVML when there is a driver) per `sample_interval_s`."""
    from workbench.core.runs.protocol import Step
    from workbench.training.child import RunEvents
    from workbench.training.system import SystemMonitor

    with tempfile.TemporaryDirectory() as folder:
        events = RunEvents(Path(folder), enabled=True)
        step = Step(
            step=1,
            epoch=0.5,
            loss=0.6931,
            learning_rate=5e-5,
            grad_norm=1.2,
            samples_per_s=20.0,
            tokens_per_s=900.0,
            step_time_s=0.8,
        )
        started = time.perf_counter()
        for _ in range(2000):
            events.emit(step)
        emit_s = (time.perf_counter() - started) / 2000
        monitor = SystemMonitor(events.emit, interval=sample_interval_s)
        monitor.start()
        monitor.stop()
        started = time.process_time()
        for _ in range(50):
            events.emit(monitor.sample())
        sample_s = (time.process_time() - started) / 50
        events.close()
    per_second = emit_s / (logging_steps * step_s) + sample_s / sample_interval_s
    return {"emit_us": emit_s * 1e6, "sample_ms": sample_s * 1e3, "fraction": per_second}


def main() -> int:
    os.environ.setdefault("WORKBENCH_SPARE_RUN", "0")  # no spare run processes: every row starts as a first run does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--logging-steps", type=int, default=10)
    parser.add_argument(
        "--skip-quiet", action="store_true", help="no events-off runs (the overhead is then only timed directly)"
    )
    parser.add_argument("--model", help="model folder (default: the embedded encoder)")
    parser.add_argument("--mrpc", type=Path, help="folder with MRPC's train.tsv (default: ../shared/data/glue/mrpc)")
    args = parser.parse_args()
    global MRPC_DIR, MODEL
    MRPC_DIR, MODEL = args.mrpc, args.model
    results: dict[str, list[float]] = {"trainer": [], "workbench": [], "workbench-quiet": []}
    for repeat in range(args.repeats):  # interleaved, so drifts in machine load hit every variant alike
        if not args.skip_quiet:
            results["workbench-quiet"].append(workbench_samples_per_s(args.rows, True, args.logging_steps))
        results["workbench"].append(workbench_samples_per_s(args.rows, False, args.logging_steps))
        results["trainer"].append(trainer_samples_per_s(args.rows))
        print(f"repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in results.items() if v), flush=True)
    import torch

    print(
        f"\n{args.rows} MRPC rows, batch {BATCH}, max length {MAX_LENGTH}, {MODEL or 'embedded encoder'}, CPU"
        f" ({torch.get_num_threads()} threads in this process),"
        f" {args.repeats} repeats (median, best)"
    )
    print(f"{'':<18}{'samples/s':>10}{'best':>10}")
    results = {name: values for name, values in results.items() if values}
    median = {name: statistics.median(values) for name, values in results.items()}
    for name, values in results.items():
        print(f"{name:<18}{median[name]:>10.2f}{max(values):>10.2f}")
    ratios = [w / t for w, t in zip(results["workbench"], results["trainer"])]
    print(
        f"workbench / trainer: {median['workbench'] / median['trainer']:.3f} (medians);"
        f" per repeat (neighbouring runs): {', '.join(f'{r:.3f}' for r in ratios)}"
    )
    if "workbench-quiet" in median:
        overhead = 1 - median["workbench"] / median["workbench-quiet"]
        print(
            f"overhead of events (every {args.logging_steps} steps) and system sampling (2 s), from the two"
            f" throughputs: {overhead * 100:+.2f}% (machine noise included)"
        )
    direct = direct_overhead(BATCH / median["workbench"], args.logging_steps)
    print(
        f"overhead timed directly: a step event {direct['emit_us']:.0f} us every {args.logging_steps} steps,"
        f" a system sample {direct['sample_ms']:.2f} ms CPU every 2 s: {direct['fraction'] * 100:.3f}% of training time"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
