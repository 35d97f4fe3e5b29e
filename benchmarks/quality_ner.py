"""Quality check: a workbench run against the course's Trainer recipe on CoNLL-2003 NER.

The course's chapter 7 recipe (`tokenize_and_align_labels` with `align_labels_with_tokens`, every
sub-token labelled and B-X continued as I-X; `DataCollatorForTokenClassification`; seqeval's
overall precision, recall, F1 and accuracy in `compute_metrics`; learning rate 2e-5, 3 epochs,
weight decay 0.01, batch 8) against `workbench train` on the same files with the same settings
(`data.label_all_tokens = true`, the same label order, seed and schedule). Both read the CoNLL
files with the workbench's reader (the course loads the Hub copy; this machine is offline).
Goal: the workbench's entity F1 on CoNLL-2003 validation within 1 point of Trainer's.

    python benchmarks/quality_ner.py [--which both|trainer|workbench] [--conll DIR] [--train-rows N]

`run(args)` returns one row per side and epoch: {"task", "side", "runner", "epoch", "f1", "precision",
"recall", "accuracy", "eval_loss", "runtime_s"}; `benchmarks/task_quality.py` calls it.
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

# The course's hyper-parameters (chapter 7, token classification); max_length is the encoder's limit.
DEFAULTS = {
    "which": "both",
    "conll": None,
    "model": "embedded",
    "train_rows": 0,
    "eval_rows": 0,
    "epochs": 3,
    "batch_size": 8,
    "learning_rate": 2e-5,
    "weight_decay": 0.01,
    "seed": 42,
    "max_length": 512,
    "first_subtoken_only": False,
    "mixed_precision": "no",
    "runs_dir": None,
}


def option(args, name: str):
    """`args.name`, or the default when a caller's namespace lacks it (the task_quality dispatcher)."""
    value = getattr(args, name, None)
    return DEFAULTS[name] if value is None else value


def default_conll_dir() -> Path:
    for candidate in (ROOT.parent / "shared" / "data" / "ner" / "conll2003", Path("/work/shared/data/ner/conll2003")):
        if candidate.is_dir():
            return candidate
    raise SystemExit("CoNLL-2003 not found; pass --conll DIR (train.txt and valid.txt)")


def conll_files(args) -> tuple[Path, Path]:
    folder = Path(option(args, "conll") or default_conll_dir())
    return folder / "train.txt", folder / "valid.txt"


def model_path(args) -> str:
    from workbench.core.embedded import embedded_model_path, is_embedded

    name = option(args, "model")
    return str(embedded_model_path()) if is_embedded(name) else str(name)


def course_align_labels_with_tokens(labels, word_ids):
    """The course's function, verbatim: B-X (odd ids in its label order) continued as I-X."""
    new_labels = []
    current_word = None
    for word_id in word_ids:
        if word_id != current_word:
            current_word = word_id
            label = -100 if word_id is None else labels[word_id]
            new_labels.append(label)
        elif word_id is None:
            new_labels.append(-100)
        else:
            label = labels[word_id]
            if label % 2 == 1:
                label += 1
            new_labels.append(label)
    return new_labels


def first_subtoken_only(labels, word_ids):
    aligned = course_align_labels_with_tokens(labels, word_ids)
    previous = None
    for position, word in enumerate(word_ids):
        if word is not None and word == previous:
            aligned[position] = -100
        previous = word
    return aligned


def run_trainer(args) -> list[dict]:
    """The course's chapter 7 recipe with Trainer, on the local CoNLL files."""
    import datasets
    import numpy as np
    from seqeval.metrics import accuracy_score, f1_score, precision_score, recall_score
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from workbench.core.data.formats import conll
    from workbench.core.tasks.token_classification import label_names

    train_file, valid_file = conll_files(args)
    raw = datasets.DatasetDict({"train": conll.read_files([train_file]), "validation": conll.read_files([valid_file])})
    if option(args, "train_rows"):
        raw["train"] = raw["train"].select(range(min(option(args, "train_rows"), len(raw["train"]))))
    if option(args, "eval_rows"):
        raw["validation"] = raw["validation"].select(range(min(option(args, "eval_rows"), len(raw["validation"]))))
    # O, then B-X, I-X per type: the order the course's `label % 2 == 1` test needs (as the Hub copy's).
    names = label_names(raw["train"]["ner_tags"])
    label2id = {name: index for index, name in enumerate(names)}
    id2label = dict(enumerate(names))
    checkpoint = model_path(args)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    align = first_subtoken_only if option(args, "first_subtoken_only") else course_align_labels_with_tokens

    def tokenize_and_align_labels(examples):
        tokenized_inputs = tokenizer(
            examples["tokens"], truncation=True, is_split_into_words=True, max_length=option(args, "max_length")
        )
        all_labels = [[label2id[tag] for tag in tags] for tags in examples["ner_tags"]]
        new_labels = []
        for i, labels in enumerate(all_labels):
            word_ids = tokenized_inputs.word_ids(i)
            new_labels.append(align(labels, word_ids))
        tokenized_inputs["labels"] = new_labels
        return tokenized_inputs

    tokenized = raw.map(tokenize_and_align_labels, batched=True, remove_columns=raw["train"].column_names)
    data_collator = DataCollatorForTokenClassification(tokenizer=tokenizer)

    def compute_metrics(eval_preds):
        logits, labels = eval_preds
        predictions = np.argmax(logits, axis=-1)
        true_labels = [[names[l] for l in label if l != -100] for label in labels]  # noqa: E741 (the course's)
        true_predictions = [
            [names[p] for (p, l) in zip(prediction, label) if l != -100]  # noqa: E741
            for prediction, label in zip(predictions, labels)
        ]
        # evaluate's "seqeval" module reports these overall values (offline, seqeval itself)
        return {
            "precision": precision_score(true_labels, true_predictions),
            "recall": recall_score(true_labels, true_predictions),
            "f1": f1_score(true_labels, true_predictions),
            "accuracy": accuracy_score(true_labels, true_predictions),
        }

    set_seed(option(args, "seed"))
    model = AutoModelForTokenClassification.from_pretrained(checkpoint, id2label=id2label, label2id=label2id)
    with tempfile.TemporaryDirectory() as output_dir:
        training_args = TrainingArguments(
            output_dir,
            eval_strategy="epoch",
            save_strategy="no",
            learning_rate=option(args, "learning_rate"),
            num_train_epochs=option(args, "epochs"),
            weight_decay=option(args, "weight_decay"),
            per_device_train_batch_size=option(args, "batch_size"),
            per_device_eval_batch_size=32,
            seed=option(args, "seed"),
            report_to="none",
            logging_steps=50,
            disable_tqdm=True,
            bf16=option(args, "mixed_precision") == "bf16",
            fp16=option(args, "mixed_precision") == "fp16",
        )
        trainer = Trainer(
            model=model,
            args=training_args,
            train_dataset=tokenized["train"],
            eval_dataset=tokenized["validation"],
            data_collator=data_collator,
            compute_metrics=compute_metrics,
            processing_class=tokenizer,
        )
        started = time.perf_counter()
        trainer.train()
        runtime = time.perf_counter() - started
    rows = []
    for entry in trainer.state.log_history:
        if "eval_f1" in entry:
            rows.append(
                {
                    "task": "ner",
                    "side": "trainer",
                    "runner": "trainer",
                    "epoch": round(float(entry["epoch"]), 2),
                    **{name: float(entry[f"eval_{name}"]) for name in ("f1", "precision", "recall", "accuracy")},
                    "eval_loss": float(entry["eval_loss"]),
                    "runtime_s": runtime,
                }
            )
    return rows


def workbench_spec(args) -> dict:
    from workbench.training.spec import default_spec

    train_file, valid_file = conll_files(args)
    spec = default_spec(model=option(args, "model"), data=str(train_file), head="token-classification")
    spec["data"].update(
        validation_file=str(valid_file),
        text_column="tokens",
        label_column="ner_tags",
        max_length=option(args, "max_length"),
        label_all_tokens=not option(args, "first_subtoken_only"),
        max_train_samples=option(args, "train_rows"),
        max_eval_samples=option(args, "eval_rows"),
    )
    spec["training"].update(
        per_device_train_batch_size=option(args, "batch_size"),
        per_device_eval_batch_size=32,
        learning_rate=option(args, "learning_rate"),
        num_train_epochs=float(option(args, "epochs")),
        weight_decay=option(args, "weight_decay"),
        seed=option(args, "seed"),
        eval_strategy="epoch",
        logging_steps=50,
        metrics=["f1", "precision", "recall", "accuracy"],
        mixed_precision=option(args, "mixed_precision"),
        save_total_limit=1,
    )
    return spec


def run_workbench(args) -> list[dict]:
    from workbench.core.runs import protocol
    from workbench.training import runs

    runs_dir = Path(option(args, "runs_dir") or tempfile.mkdtemp(prefix="wb-ner-"))
    info = runs.launch_run(workbench_spec(args), runs_dir)
    print(f"workbench run {info.path}", flush=True)
    while runs.read_run(info.path).is_active:
        time.sleep(2)
    summary = runs.read_summary(info.path) or {}
    if summary.get("status") != "finished":
        raise SystemExit(f"the workbench run ended {summary.get('status')}: see {info.path / 'stdout.log'}")
    by_epoch: dict[float, dict] = {}
    for event in protocol.read_events(info.path / "events.jsonl"):
        if isinstance(event, protocol.Evaluation) and "f1" in event.metrics:
            by_epoch[round(float(event.epoch), 2)] = event.metrics  # one row an epoch (the last of any repeats)
    return [
        {
            "task": "ner",
            "side": "workbench",
            "runner": "workbench",
            "epoch": epoch,
            **{name: float(metrics[name]) for name in ("f1", "precision", "recall", "accuracy")},
            "eval_loss": float(metrics["eval_loss"]),
            "runtime_s": float(summary.get("train_runtime_s") or 0.0),
            "run": str(info.path),
        }
        for epoch, metrics in sorted(by_epoch.items())
    ]


def run(args) -> list[dict]:
    """Per-epoch validation metrics of both sides (or the one `args.which` names)."""
    which = option(args, "which")
    rows: list[dict] = []
    if which in ("both", "workbench"):
        rows += run_workbench(args)
    if which in ("both", "trainer"):
        rows += run_trainer(args)
    return rows


def print_table(rows: list[dict], args) -> None:
    print(
        f"\nCoNLL-2003 validation, {option(args, 'model')}, batch {option(args, 'batch_size')},"
        f" lr {option(args, 'learning_rate')}, {option(args, 'epochs')} epochs, seed {option(args, 'seed')},"
        f" train rows {option(args, 'train_rows') or 'all'}"
    )
    print(f"{'runner':<12}{'epoch':>6}{'F1':>8}{'prec':>8}{'recall':>8}{'acc':>8}{'train s':>9}")
    for row in rows:
        print(
            f"{row['runner']:<12}{row['epoch']:>6.1f}{row['f1'] * 100:>8.2f}{row['precision'] * 100:>8.2f}"
            f"{row['recall'] * 100:>8.2f}{row['accuracy'] * 100:>8.2f}{row['runtime_s']:>9.0f}"
        )
    last = {row["runner"]: row for row in rows}
    if len(last) == 2:
        gap = (last["workbench"]["f1"] - last["trainer"]["f1"]) * 100
        print(f"final F1 gap (workbench - trainer): {gap:+.2f} points, {'within' if abs(gap) <= 1 else 'NOT within'} 1")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--which", choices=["both", "trainer", "workbench"], default=DEFAULTS["which"])
    parser.add_argument("--conll", type=Path, help="folder with train.txt and valid.txt (default: shared data)")
    parser.add_argument("--model", default=DEFAULTS["model"], help="checkpoint folder (default: the embedded encoder)")
    parser.add_argument("--train-rows", type=int, default=DEFAULTS["train_rows"], help="first N sentences; 0 = all")
    parser.add_argument("--eval-rows", type=int, default=DEFAULTS["eval_rows"], help="first N sentences; 0 = all")
    parser.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    parser.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    parser.add_argument("--learning-rate", type=float, default=DEFAULTS["learning_rate"])
    parser.add_argument("--weight-decay", type=float, default=DEFAULTS["weight_decay"])
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    parser.add_argument("--max-length", type=int, default=DEFAULTS["max_length"])
    parser.add_argument(
        "--first-subtoken-only", action="store_true", help="label first sub-tokens only (run_ner.py's default)"
    )
    parser.add_argument("--mixed-precision", choices=["no", "bf16", "fp16"], default=DEFAULTS["mixed_precision"])
    parser.add_argument("--runs-dir", type=Path, help="where the workbench run goes (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    return parser


def main() -> int:
    os.environ.setdefault("WORKBENCH_SPARE_RUN", "0")  # no spare run processes: every row starts as a first run does
    args = build_parser().parse_args()
    rows = run(args)
    print_table(rows, args)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
