"""One Trainer job, run as its own process by `gpu_job.py`, timed from the command to the model on disk.

Two recipes on the same data, model, max length, batch, precision, optimizer and schedule:
- `course`: what the course's chapter 3 writes (map tokenization, DataCollatorWithPadding, Trainer);
- `tuned`: what a knowledgeable user adds (length-grouped batches, padding to a multiple of 8,
  two data-loader workers with pinned memory, fused AdamW; `--compile` adds `torch_compile=True`).

Writes a timeline JSON (wall-clock times relative to `--started`, the parent's `time.time()` just
before it started this process): first optimizer step, the steady window's two ends, end of training,
model saved; plus the evaluation metrics.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=("course", "tuned"), required=True)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--train", type=Path, required=True, help="JSON lines: sentence1, sentence2, label")
    parser.add_argument("--validation", type=Path, default=None)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--window", type=int, nargs=2, required=True, help="steady window: first and last step")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--timeline", type=Path, required=True)
    parser.add_argument("--started", type=float, required=True)
    args = parser.parse_args()

    import numpy as np
    import torch
    from datasets import load_dataset
    from sklearn.metrics import accuracy_score, f1_score
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    timeline: dict = {"imports_done": time.time() - args.started}
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    files = {"train": str(args.train)}
    if args.validation:
        files["validation"] = str(args.validation)
    raw = load_dataset("json", data_files=files, cache_dir=str(args.out.parent / "hf-cache"))
    tokenized = raw.map(
        lambda rows: tokenizer(rows["sentence1"], rows["sentence2"], truncation=True, max_length=args.max_length),
        batched=True,
        remove_columns=["sentence1", "sentence2"],
    )
    model = AutoModelForSequenceClassification.from_pretrained(args.model, num_labels=2)
    tuned = args.recipe == "tuned"
    window = tuple(args.window)

    class Clock(TrainerCallback):
        def on_step_end(self, _args, state, control, **kwargs):
            step = state.global_step
            if step == 1 or step in window:
                torch.cuda.synchronize() if torch.cuda.is_available() else None
                key = "first_step" if step == 1 else f"step_{step}"
                timeline[key] = time.time() - args.started

    def compute_metrics(prediction):
        predicted = np.argmax(prediction.predictions, axis=-1)
        return {
            "accuracy": float(accuracy_score(prediction.label_ids, predicted)),
            "f1": float(f1_score(prediction.label_ids, predicted)),
        }

    fields = TrainingArguments.__dataclass_fields__
    # transformers 5 renamed group_by_length=True to train_sampling_strategy="group_by_length".
    grouping = (
        {"train_sampling_strategy": "group_by_length"}
        if "train_sampling_strategy" in fields
        else {"group_by_length": True}
    )
    arguments = TrainingArguments(
        output_dir=str(args.out / "trainer-output"),
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch,
        per_device_eval_batch_size=max(args.batch, 64),
        learning_rate=args.learning_rate,
        bf16=torch.cuda.is_available(),
        eval_strategy="epoch" if args.validation else "no",
        save_strategy="no",
        logging_steps=50,
        report_to=[],
        seed=42,
        disable_tqdm=True,
        optim="adamw_torch_fused" if torch.cuda.is_available() else "adamw_torch",
        **(
            dict(
                dataloader_num_workers=args.workers,
                dataloader_pin_memory=True,
                torch_compile=args.compile,
                **grouping,
            )
            if tuned
            else {}
        ),
    )
    trainer = Trainer(
        model=model,
        args=arguments,
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["validation"] if args.validation else None,
        data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8 if tuned else None),
        compute_metrics=compute_metrics,
        callbacks=[Clock()],
    )
    output = trainer.train()
    timeline["train_done"] = time.time() - args.started
    evaluations = [entry for entry in trainer.state.log_history if "eval_f1" in entry]
    trainer.save_model(str(args.out / "final"))
    timeline["saved"] = time.time() - args.started
    timeline.update(
        total_steps=trainer.state.global_step,
        train_runtime_s=output.metrics.get("train_runtime"),
        evaluations=[
            {"epoch": entry["epoch"], "f1": entry["eval_f1"], "accuracy": entry["eval_accuracy"]}
            for entry in evaluations
        ],
        peak_allocated_mb=torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None,
    )
    args.timeline.write_text(json.dumps(timeline, indent=2))


if __name__ == "__main__":
    main()
