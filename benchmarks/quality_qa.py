"""Quality check: a workbench run against the course's Trainer recipe on extractive QA (SQuAD).

The course's chapter 7 recipe (`preprocess_training_examples` / `preprocess_validation_examples`
with max_length 384 and stride 128, `AutoModelForQuestionAnswering`, Trainer with learning rate
2e-5, 3 epochs, weight decay 0.01, batch 8, and its `compute_metrics` post-processing with
n_best 20 and max_answer_length 30) against `workbench train --head question-answering` on the
same files with the same settings and seed. The data: the SQuAD v1.1 dev file split by article
(title), so the validation articles are never seen in training; both sides read the same split
files (SQuAD JSON, through the workbench's reader). The course scores with `evaluate`'s "squad"
metric (the official v1.1 script); offline, both sides use `workbench.core.tasks.squad_metric`,
the same script. Goal: the workbench's F1 within 1 point of Trainer's.

    python benchmarks/quality_qa.py [--which both|trainer|workbench] [--squad FILE] [--model DIR]

`run(args)` returns one row per side and epoch: {"task", "side", "runner", "epoch", "exact_match",
"f1", "eval_loss" (workbench), "runtime_s", and the split's article and question counts};
`benchmarks/task_quality.py --task qa` calls it.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The course's hyper-parameters (chapter 7, question answering).
DEFAULTS = {
    "which": "both",
    "squad": None,
    "model": "embedded",
    "validation_share": 0.2,  # of the articles
    "split_seed": 0,
    "train_rows": 0,
    "eval_rows": 0,
    "epochs": 3,
    "batch_size": 8,
    "learning_rate": 2e-5,
    "weight_decay": 0.01,
    "seed": 42,
    "max_length": 384,
    "stride": 128,
    "n_best": 20,
    "max_answer_length": 30,
    "mixed_precision": "no",
    "runs_dir": None,
}


def option(args, name: str):
    """`args.name`, or the default when a caller's namespace lacks it (the task_quality dispatcher)."""
    value = getattr(args, name, None)
    return DEFAULTS[name] if value is None else value


def default_squad_file() -> Path:
    for candidate in (
        ROOT.parent / "shared" / "data" / "qa" / "squad" / "dev-v1.1.json",
        Path("/work/shared/data/qa/squad/dev-v1.1.json"),
    ):
        if candidate.is_file():
            return candidate
    raise SystemExit("SQuAD dev-v1.1.json not found; pass --squad FILE")


def model_path(args) -> str:
    from workbench.core.embedded import is_embedded

    name = option(args, "model")
    if is_embedded(name):
        from workbench.core.embedded import embedded_model_path

        return str(embedded_model_path())
    return str(name)


def split_by_article(args, folder: Path) -> tuple[Path, Path, dict]:
    """Train and validation SQuAD files with no article in both (a seeded shuffle of the titles)."""
    source = Path(option(args, "squad") or default_squad_file())
    document = json.loads(source.read_text(encoding="utf-8"))
    titles = sorted({article["title"] for article in document["data"]})
    random.Random(option(args, "split_seed")).shuffle(titles)
    held_out = set(titles[: max(1, round(len(titles) * option(args, "validation_share")))])
    parts = {"train": [], "validation": []}
    for article in document["data"]:
        parts["validation" if article["title"] in held_out else "train"].append(article)
    paths = {}
    for name, articles in parts.items():
        paths[name] = folder / f"{name}.json"
        paths[name].write_text(json.dumps({"version": document.get("version", "1.1"), "data": articles}))

    def questions(articles: list, limit: int) -> int:
        count = sum(len(paragraph["qas"]) for article in articles for paragraph in article["paragraphs"])
        return min(count, limit) if limit else count

    info = {
        "train_articles": len(parts["train"]),
        "validation_articles": len(parts["validation"]),
        "train_questions": questions(parts["train"], option(args, "train_rows")),
        "eval_questions": questions(parts["validation"], option(args, "eval_rows")),
        "source": str(source),
    }
    return paths["train"], paths["validation"], info


def limited(dataset, rows: int):
    return dataset.select(range(min(rows, len(dataset)))) if rows else dataset


# -- the course's recipe ---------------------------------------------------------------------------


def run_trainer(args, train_file: Path, validation_file: Path) -> list[dict]:
    """The course's chapter 7 QA recipe with Trainer, evaluated (predict + compute_metrics) per epoch."""
    import numpy as np
    from transformers import (
        AutoModelForQuestionAnswering,
        AutoTokenizer,
        DefaultDataCollator,
        Trainer,
        TrainerCallback,
        TrainingArguments,
        set_seed,
    )

    from workbench.core.data.formats import squad
    from workbench.core.tasks import squad_metric

    raw_train = limited(squad.read_files([train_file]), option(args, "train_rows"))
    raw_validation = limited(squad.read_files([validation_file]), option(args, "eval_rows"))
    checkpoint = model_path(args)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    max_length, stride = option(args, "max_length"), option(args, "stride")
    n_best, max_answer_length = option(args, "n_best"), option(args, "max_answer_length")

    def preprocess_training_examples(examples):
        questions = [q.strip() for q in examples["question"]]
        inputs = tokenizer(
            questions,
            examples["context"],
            max_length=max_length,
            truncation="only_second",
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="max_length",
        )
        offset_mapping = inputs.pop("offset_mapping")
        sample_map = inputs.pop("overflow_to_sample_mapping")
        answers = examples["answers"]
        start_positions = []
        end_positions = []
        for i, offset in enumerate(offset_mapping):
            sample_idx = sample_map[i]
            answer = answers[sample_idx]
            start_char = answer["answer_start"][0]
            end_char = answer["answer_start"][0] + len(answer["text"][0])
            sequence_ids = inputs.sequence_ids(i)
            idx = 0
            while sequence_ids[idx] != 1:
                idx += 1
            context_start = idx
            while sequence_ids[idx] == 1:
                idx += 1
            context_end = idx - 1
            if offset[context_start][0] > start_char or offset[context_end][1] < end_char:
                start_positions.append(0)
                end_positions.append(0)
            else:
                idx = context_start
                while idx <= context_end and offset[idx][0] <= start_char:
                    idx += 1
                start_positions.append(idx - 1)
                idx = context_end
                while idx >= context_start and offset[idx][1] >= end_char:
                    idx -= 1
                end_positions.append(idx + 1)
        inputs["start_positions"] = start_positions
        inputs["end_positions"] = end_positions
        return inputs

    def preprocess_validation_examples(examples):
        questions = [q.strip() for q in examples["question"]]
        inputs = tokenizer(
            questions,
            examples["context"],
            max_length=max_length,
            truncation="only_second",
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="max_length",
        )
        sample_map = inputs.pop("overflow_to_sample_mapping")
        example_ids = []
        for i in range(len(inputs["input_ids"])):
            sample_idx = sample_map[i]
            example_ids.append(examples["id"][sample_idx])
            sequence_ids = inputs.sequence_ids(i)
            offset = inputs["offset_mapping"][i]
            inputs["offset_mapping"][i] = [o if sequence_ids[k] == 1 else None for k, o in enumerate(offset)]
        inputs["example_id"] = example_ids
        return inputs

    def compute_metrics(start_logits, end_logits, features, examples):
        example_to_features = collections.defaultdict(list)
        for idx, feature in enumerate(features):
            example_to_features[feature["example_id"]].append(idx)
        predicted_answers = []
        for example in examples:
            example_id = example["id"]
            context = example["context"]
            answers = []
            for feature_index in example_to_features[example_id]:
                start_logit = start_logits[feature_index]
                end_logit = end_logits[feature_index]
                offsets = features[feature_index]["offset_mapping"]
                start_indexes = np.argsort(start_logit)[-1 : -n_best - 1 : -1].tolist()
                end_indexes = np.argsort(end_logit)[-1 : -n_best - 1 : -1].tolist()
                for start_index in start_indexes:
                    for end_index in end_indexes:
                        if offsets[start_index] is None or offsets[end_index] is None:
                            continue
                        if end_index < start_index or end_index - start_index + 1 > max_answer_length:
                            continue
                        answers.append(
                            {
                                "text": context[offsets[start_index][0] : offsets[end_index][1]],
                                "logit_score": start_logit[start_index] + end_logit[end_index],
                            }
                        )
            if len(answers) > 0:
                best_answer = max(answers, key=lambda x: x["logit_score"])
                predicted_answers.append({"id": example_id, "prediction_text": best_answer["text"]})
            else:
                predicted_answers.append({"id": example_id, "prediction_text": ""})
        theoretical_answers = [{"id": ex["id"], "answers": ex["answers"]} for ex in examples]
        # evaluate.load("squad").compute(...) is the official v1.1 script: the same computation, offline
        return squad_metric.squad_v1(
            [p["prediction_text"] for p in predicted_answers], [t["answers"]["text"] for t in theoretical_answers]
        )

    train_dataset = raw_train.map(preprocess_training_examples, batched=True, remove_columns=raw_train.column_names)
    validation_dataset = raw_validation.map(
        preprocess_validation_examples, batched=True, remove_columns=raw_validation.column_names
    )
    validation_set = validation_dataset.remove_columns(["example_id", "offset_mapping"])

    set_seed(option(args, "seed"))
    model = AutoModelForQuestionAnswering.from_pretrained(checkpoint)
    rows: list[dict] = []
    started = time.perf_counter()

    class EvaluateEachEpoch(TrainerCallback):
        trainer = None

        def on_epoch_end(self, train_args, state, control, **kwargs):
            paused = time.perf_counter()
            predictions, _, _ = self.trainer.predict(validation_set)
            start_logits, end_logits = predictions
            metrics = compute_metrics(start_logits, end_logits, validation_dataset, raw_validation)
            rows.append(
                {
                    "task": "qa",
                    "side": "trainer",
                    "runner": "trainer",
                    "epoch": round(float(state.epoch), 2),
                    "exact_match": metrics["exact_match"],
                    "f1": metrics["f1"],
                    "runtime_s": paused - started,
                }
            )
            print("trainer", rows[-1], flush=True)

    callback = EvaluateEachEpoch()
    precision = option(args, "mixed_precision")
    with tempfile.TemporaryDirectory() as output_dir:
        training_args = TrainingArguments(
            output_dir,
            eval_strategy="no",
            save_strategy="no",
            learning_rate=option(args, "learning_rate"),
            num_train_epochs=option(args, "epochs"),
            weight_decay=option(args, "weight_decay"),
            per_device_train_batch_size=option(args, "batch_size"),
            per_device_eval_batch_size=32,
            seed=option(args, "seed"),
            bf16=precision == "bf16",
            fp16=precision == "fp16",
            report_to="none",
            logging_steps=100,
            disable_tqdm=True,
        )
        trainer = Trainer(
            model=model,
            args=training_args,
            train_dataset=train_dataset,
            data_collator=DefaultDataCollator(),
            processing_class=tokenizer,
            callbacks=[callback],
        )
        callback.trainer = trainer
        trainer.train()
    return rows


# -- the workbench run ----------------------------------------------------------------------------


def workbench_spec(args, train_file: Path, validation_file: Path) -> dict:
    from workbench.training.spec import default_spec

    spec = default_spec(model=option(args, "model"), data=str(train_file))
    spec["model"]["head"] = "question-answering"
    spec["data"].update(
        validation_file=str(validation_file),
        max_length=option(args, "max_length"),
        doc_stride=option(args, "stride"),
        n_best_size=option(args, "n_best"),
        max_answer_length=option(args, "max_answer_length"),
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
        mixed_precision=option(args, "mixed_precision"),
        eval_strategy="epoch",
        logging_steps=100,
        metrics=["exact_match", "f1"],
        save_total_limit=1,
        predictions_keep=1,
    )
    return spec


def run_workbench(args, train_file: Path, validation_file: Path) -> list[dict]:
    from workbench.core.runs import protocol
    from workbench.training import runs

    runs_dir = Path(option(args, "runs_dir") or tempfile.mkdtemp(prefix="wb-qa-"))
    info = runs.launch_run(workbench_spec(args, train_file, validation_file), runs_dir)
    print(f"workbench run {info.path}", flush=True)
    while runs.read_run(info.path).is_active:
        time.sleep(2)
    summary = runs.read_summary(info.path) or {}
    if summary.get("status") != "finished":
        log = info.path / "stdout.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise SystemExit(f"the workbench run ended {summary.get('status')}: see {log}\n{tail}")
    by_epoch: dict[float, dict] = {}
    events = protocol.read_events(info.path / "events.jsonl")
    for event in events:
        if isinstance(event, protocol.Evaluation) and "f1" in event.metrics:
            by_epoch[round(float(event.epoch), 2)] = event.metrics
    for event in events:
        if isinstance(event, protocol.LogLine) and event.level == "warning":
            print(f"workbench note: {event.message}", flush=True)
    rows = [
        {
            "task": "qa",
            "side": "workbench",
            "runner": "workbench",
            "epoch": epoch,
            "exact_match": float(metrics["exact_match"]),
            "f1": float(metrics["f1"]),
            "eval_loss": float(metrics["eval_loss"]),
            "runtime_s": float(summary.get("train_runtime_s") or 0.0),
            "run": str(info.path),
        }
        for epoch, metrics in sorted(by_epoch.items())
    ]
    for row in rows:
        print("workbench", row, flush=True)
    return rows


def run(args) -> list[dict]:
    """Per-epoch exact match and F1 of both sides (or the one `args.which` names), on held-out articles."""
    which = option(args, "which")
    folder = Path(tempfile.mkdtemp(prefix="wb-qa-data-"))
    train_file, validation_file, info = split_by_article(args, folder)
    print(f"SQuAD split by article: {info}", flush=True)
    rows: list[dict] = []
    if which in ("both", "workbench"):
        rows += run_workbench(args, train_file, validation_file)
    if which in ("both", "trainer"):
        rows += run_trainer(args, train_file, validation_file)
    for row in rows:
        row.update({key: value for key, value in info.items() if key != "source"})
    return rows


def print_table(rows: list[dict], args) -> None:
    print(
        f"\nSQuAD v1.1 dev split by article, {option(args, 'model')}, batch {option(args, 'batch_size')},"
        f" lr {option(args, 'learning_rate')}, {option(args, 'epochs')} epochs, seed {option(args, 'seed')},"
        f" max_length {option(args, 'max_length')}, stride {option(args, 'stride')}"
    )
    print(f"{'runner':<12}{'epoch':>6}{'EM':>8}{'F1':>8}{'train s':>9}")
    for row in rows:
        print(
            f"{row['runner']:<12}{row['epoch']:>6.1f}{row['exact_match']:>8.2f}{row['f1']:>8.2f}"
            f"{row['runtime_s']:>9.0f}"
        )
    last = {row["runner"]: row for row in rows}
    if len(last) == 2:
        gap = last["workbench"]["f1"] - last["trainer"]["f1"]
        print(f"final F1 gap (workbench - trainer): {gap:+.2f} points, {'within' if abs(gap) <= 1 else 'NOT within'} 1")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--which", choices=["both", "trainer", "workbench"], default=DEFAULTS["which"])
    parser.add_argument("--squad", type=Path, help="a SQuAD v1.1 JSON file (default: the shared dev-v1.1.json)")
    parser.add_argument("--model", default=DEFAULTS["model"], help="checkpoint folder (default: the embedded encoder)")
    parser.add_argument("--validation-share", type=float, default=DEFAULTS["validation_share"], help="of the articles")
    parser.add_argument("--split-seed", type=int, default=DEFAULTS["split_seed"])
    parser.add_argument("--train-rows", type=int, default=DEFAULTS["train_rows"], help="first N questions; 0 = all")
    parser.add_argument("--eval-rows", type=int, default=DEFAULTS["eval_rows"], help="first N questions; 0 = all")
    parser.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    parser.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    parser.add_argument("--learning-rate", type=float, default=DEFAULTS["learning_rate"])
    parser.add_argument("--weight-decay", type=float, default=DEFAULTS["weight_decay"])
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    parser.add_argument("--max-length", type=int, default=DEFAULTS["max_length"])
    parser.add_argument("--stride", type=int, default=DEFAULTS["stride"])
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
