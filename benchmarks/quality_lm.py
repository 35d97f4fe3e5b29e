"""Quality of the language-model tasks: a workbench run against the course's Trainer recipe.

masked-lm (`--task mlm`): the embedded encoder (or --model) adapted to WikiText-2; causal-lm
(`--task clm`): a GPT-2 made from a config (`workbench model create gpt2 --preset tiny|small`,
random weights, the embedded tokenizer) trained from scratch. Both sides read the same text (by
default WikiText-2's validation file for training and its test file for evaluation, one document a
line, empty lines dropped), cut it into the same blocks, and run with the same hyper-parameters and
seed; perplexity = exp(evaluation loss) after each epoch. One row per (side, epoch).

    python benchmarks/task_quality.py --task mlm [--train-rows N] [--epochs E] [--cpu]
    python benchmarks/quality_lm.py --task clm --preset small --which both

--model, --tokenizer and --data take folders, so a machine without the embedded encoder's package
(the GPU machine) runs it from copies: `--task mlm --model DIR` (half-precision weights are copied to
float32 first, so both sides train in float32) or `--task clm --tokenizer DIR`.

The course's recipe (chapter 7, sections 3 and 6): `tokenize_function`, `group_texts` (blocks of
`chunk_size` tokens, remainder dropped), `DataCollatorForLanguageModeling(tokenizer,
mlm_probability=0.15)` or `(tokenizer, mlm=False)`, `Trainer` with `eval_strategy="epoch"`. The
masked-lm evaluation set is the course's `insert_random_mask` (the validation blocks masked once,
here with a collator seeded by --seed), and Trainer is given a collator that leaves those rows
as they are, so both sides score the same masked tokens (checked and printed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# task -> the course's hyper-parameters (chapter 7: section 3 for masked LM, section 6 for causal LM;
# the causal warm-up of 1,000 steps is a share here, WikiText-2's validation file being small).
TASKS = {
    "mlm": {"head": "masked-lm", "batch": 64, "lr": 2e-5, "weight_decay": 0.01, "scheduler": "linear", "warmup": 0.0},
    "clm": {"head": "causal-lm", "batch": 32, "lr": 5e-4, "weight_decay": 0.1, "scheduler": "cosine", "warmup": 0.1},
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=TASKS, required=True)
    parser.add_argument("--data", type=Path, help="a folder with valid.txt and test.txt (default: WikiText-2)")
    parser.add_argument("--train-file", type=Path, help="training text (default: DATA/valid.txt)")
    parser.add_argument("--eval-file", type=Path, help="evaluation text (default: DATA/test.txt)")
    parser.add_argument("--model", help="mlm: the checkpoint (default: the embedded encoder); clm: a model folder")
    parser.add_argument("--preset", default="tiny", help="clm without --model: the GPT-2 preset (tiny, small)")
    parser.add_argument("--tokenizer", default="embedded", help="clm without --model: the GPT-2's tokenizer folder")
    parser.add_argument("--train-rows", type=int, default=0, help="documents (lines) trained on; 0 = all")
    parser.add_argument("--eval-rows", type=int, default=0, help="documents evaluated; 0 = all")
    parser.add_argument("--block-size", type=int, default=128, help="the course's chunk_size / context_length")
    parser.add_argument("--mlm-probability", type=float, default=0.15)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--batch", type=int, help="default: the course's (mlm 64, clm 32)")
    parser.add_argument("--eval-batch", type=int, default=64)
    parser.add_argument("--lr", type=float, help="default: the course's (mlm 2e-5, clm 5e-4)")
    parser.add_argument("--weight-decay", type=float, help="default: the course's (mlm 0.01, clm 0.1)")
    parser.add_argument("--warmup", type=float, help="warm-up share of the steps (default: mlm 0, clm 0.1)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--bf16", action="store_true", help="bf16 mixed precision on both sides")
    parser.add_argument("--which", choices=["both", "trainer", "workbench"], default="both")
    parser.add_argument("--cpu", action="store_true", help="train on the CPU even with a GPU")
    parser.add_argument("--workdir", type=Path, help="where the model and the runs go (default: a temp dir)")
    return parser


def settings(args) -> dict:
    """The hyper-parameters both sides use: the course's, less what the command line changes."""
    chosen = dict(TASKS[args.task])
    for key, name in (("batch", "batch"), ("lr", "lr"), ("weight_decay", "weight_decay"), ("warmup", "warmup")):
        if getattr(args, name, None) is not None:
            chosen[key] = getattr(args, name)
    return chosen


def text_files(args) -> tuple[Path, Path]:
    folder = args.data
    if folder is None:
        for base in (ROOT.parent / "shared" / "data", Path("/work/shared/data"), ROOT / ".bench"):
            if (base / "lm" / "wikitext-2").is_dir():
                folder = base / "lm" / "wikitext-2"
                break
    train = args.train_file or (folder / "valid.txt" if folder else None)
    evaluation = args.eval_file or (folder / "test.txt" if folder else None)
    if train is None or not train.is_file() or evaluation is None or not evaluation.is_file():
        raise SystemExit("WikiText-2 not found; pass --data DIR (valid.txt, test.txt) or --train-file/--eval-file")
    return train, evaluation


def embedded_path() -> str:
    from workbench.core.embedded import embedded_model_path

    return str(embedded_model_path())


def make_model(args, workdir: Path) -> str:
    """The checkpoint both sides start from: mlm --model or the embedded encoder (a float32 copy of
    half-precision weights); clm --model, or a GPT-2 config of --preset saved once with --tokenizer
    (both sides build the model afresh from that config, seeded)."""
    from transformers import AutoConfig, AutoTokenizer

    if args.task == "mlm":
        path = args.model or embedded_path()
        if str(getattr(AutoConfig.from_pretrained(path), "dtype", "") or "").endswith(("float16", "bfloat16")):
            import torch
            from transformers import AutoModel

            folder = workdir / "start-float32"
            AutoModel.from_pretrained(path, dtype=torch.float32).save_pretrained(folder)
            AutoTokenizer.from_pretrained(path).save_pretrained(folder)
            return str(folder)
        return path
    if args.model:
        return args.model
    from workbench.core.models.create import create_model, save_model

    folder = workdir / f"gpt2-{args.preset}"
    if not (folder / "config.json").exists():
        tokenizer = AutoTokenizer.from_pretrained(embedded_path() if args.tokenizer == "embedded" else args.tokenizer)
        save_model(create_model("gpt2", args.preset, None, {}, tokenizer, seed=args.seed), tokenizer, folder)
    return str(folder)


# -- the course's recipe -------------------------------------------------------------------


def course_datasets(args, model_path: str, tokenizer):
    """Tokenized, grouped and (masked-lm) fixed-masked splits, as the course builds them."""
    import datasets
    from transformers import DataCollatorForLanguageModeling

    train_file, eval_file = text_files(args)
    raw = datasets.load_dataset("text", data_files={"train": str(train_file), "test": str(eval_file)})
    raw = raw.filter(lambda example: bool(example["text"].strip()))  # WikiText's empty lines
    for split, limit in (("train", args.train_rows), ("test", args.eval_rows)):
        if limit:
            raw[split] = raw[split].select(range(min(limit, len(raw[split]))))
    chunk_size = args.block_size
    masked = args.task == "mlm"

    def tokenize_function(examples):
        return tokenizer(examples["text"], return_token_type_ids=masked)

    def group_texts(examples):
        concatenated_examples = {k: sum(examples[k], []) for k in examples.keys()}
        total_length = len(concatenated_examples[list(examples.keys())[0]])
        total_length = (total_length // chunk_size) * chunk_size
        result = {
            k: [t[i : i + chunk_size] for i in range(0, total_length, chunk_size)]
            for k, t in concatenated_examples.items()
        }
        result["labels"] = result["input_ids"].copy()
        return result

    tokenized = raw.map(tokenize_function, batched=True, remove_columns=["text"])
    lm_datasets = tokenized.map(group_texts, batched=True)
    if not masked:
        return lm_datasets["train"], lm_datasets["test"]

    eval_collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=args.mlm_probability, seed=args.seed)

    def insert_random_mask(batch):
        features = [dict(zip(batch, t)) for t in zip(*batch.values())]
        masked_inputs = eval_collator(features)
        return {"masked_" + k: v.numpy() for k, v in masked_inputs.items()}

    test = lm_datasets["test"].remove_columns(["labels"])
    eval_dataset = test.map(insert_random_mask, batched=True, remove_columns=test.column_names)
    names = {name: name.removeprefix("masked_") for name in eval_dataset.column_names}
    eval_dataset = eval_dataset.rename_columns(names)
    return lm_datasets["train"], eval_dataset


def run_trainer(args, model_path: str, workdir: Path) -> tuple[list[dict], object]:
    from transformers import (
        AutoConfig,
        AutoModelForCausalLM,
        AutoModelForMaskedLM,
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainingArguments,
        default_data_collator,
        set_seed,
    )

    chosen = settings(args)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    train_dataset, eval_dataset = course_datasets(args, model_path, tokenizer)
    set_seed(args.seed)
    if args.task == "mlm":
        model = AutoModelForMaskedLM.from_pretrained(model_path)
        data_collator = DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm_probability=args.mlm_probability)

        def collate(features):  # the fixed evaluation rows carry their labels: leave them as they are
            return default_data_collator(features) if "labels" in features[0] else data_collator(features)

    else:
        config = AutoConfig.from_pretrained(model_path)
        model = AutoModelForCausalLM.from_config(config)
        collate = DataCollatorForLanguageModeling(tokenizer, mlm=False)
    if args.task == "mlm":
        train_dataset = train_dataset.remove_columns(["labels"])  # the collator masks and labels each batch
    training_args = TrainingArguments(
        str(workdir / "trainer"),
        eval_strategy="epoch",
        save_strategy="no",
        learning_rate=chosen["lr"],
        per_device_train_batch_size=chosen["batch"],
        per_device_eval_batch_size=args.eval_batch,
        weight_decay=chosen["weight_decay"],
        lr_scheduler_type=chosen["scheduler"],
        warmup_steps=chosen["warmup"],
        num_train_epochs=args.epochs,
        seed=args.seed,
        bf16=args.bf16,
        logging_steps=50,
        report_to="none",
        disable_tqdm=True,
        use_cpu=args.cpu,
    )
    trainer = Trainer(
        model,
        training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        data_collator=collate,
        processing_class=tokenizer,
    )
    started = time.perf_counter()
    trainer.train()
    runtime = time.perf_counter() - started
    rows = []
    # Trainer divides a causal LM's summed loss by `num_items_in_batch`, the label positions counted
    # before the model shifts them (block_size per block), while block_size - 1 positions are
    # predicted: its losses are the mean per predicted token times (block - 1) / block. The rows give
    # the mean per predicted token (the model's own loss, what the workbench reports) next to
    # Trainer's own number, so the two sides compare the same quantity.
    scale = args.block_size / (args.block_size - 1) if args.task == "clm" else 1.0
    for entry in trainer.state.log_history:
        if "eval_loss" in entry:
            loss = entry["eval_loss"] * scale
            epoch = round(entry["epoch"], 2)
            row = {"side": "trainer", "epoch": epoch, "eval_loss": loss, "perplexity": _exp(loss)}
            if scale != 1.0:
                row["trainer_reported_eval_loss"] = entry["eval_loss"]
            rows.append(row)
    rows[-1]["train_s"] = runtime
    rows[-1]["blocks"] = len(train_dataset)
    return rows, eval_dataset


def _exp(loss: float) -> float:
    try:
        return math.exp(loss)
    except OverflowError:
        return float("inf")


# -- the workbench run -----------------------------------------------------------------------


def workbench_spec(args, model_path: str) -> dict:
    from workbench.training.spec import default_spec

    chosen = settings(args)
    train_file, eval_file = text_files(args)
    spec = default_spec(model=model_path, data=str(train_file), head=chosen["head"])
    spec["model"]["from_config"] = args.task == "clm"
    spec["data"].update(
        validation_file=str(eval_file),
        text_column="text",
        text_file_mode="line",
        block_size=args.block_size,
        max_length=args.block_size,
        max_train_samples=args.train_rows,
        max_eval_samples=args.eval_rows,
    )
    if args.task == "mlm":
        spec["data"]["mlm_probability"] = args.mlm_probability
    spec["training"].update(
        learning_rate=chosen["lr"],
        num_train_epochs=float(args.epochs),
        per_device_train_batch_size=chosen["batch"],
        per_device_eval_batch_size=args.eval_batch,
        weight_decay=chosen["weight_decay"],
        lr_scheduler_type=chosen["scheduler"],
        warmup_ratio=chosen["warmup"],
        seed=args.seed,
        mixed_precision="bf16" if args.bf16 else "no",
        metrics=["perplexity"],
        eval_strategy="epoch",
        logging_steps=50,
        save_total_limit=1,
        predictions_keep=1,
        use_cpu=args.cpu,
    )
    return spec


def run_workbench(args, model_path: str, workdir: Path) -> list[dict]:
    from workbench.core.runs.protocol import read_events
    from workbench.training import runs

    info = runs.launch_run(workbench_spec(args, model_path), workdir / "runs")
    print(f"workbench run {info.path}", flush=True)
    while runs.read_run(info.path).is_active:
        time.sleep(2)
    summary = runs.read_summary(info.path) or {}
    if summary.get("status") != "finished":
        raise SystemExit(f"the workbench run ended {summary.get('status')}: see {info.path / 'stdout.log'}")
    rows = []
    for event in read_events(info.path / "events.jsonl"):
        if getattr(event, "type", "") == "evaluation":
            metrics = event.metrics
            rows.append(
                {
                    "side": "workbench",
                    "epoch": round(event.epoch, 2),
                    "eval_loss": metrics["eval_loss"],
                    "perplexity": metrics["perplexity"],
                }
            )
    rows[-1]["train_s"] = summary.get("train_runtime_s")
    return rows


def same_evaluation_set(args, model_path: str, course_eval) -> bool:
    """Whether the workbench's fixed masked evaluation set is the course's, row for row."""
    from transformers import AutoTokenizer

    from workbench.core.tasks import get_task

    spec = workbench_spec(args, model_path)
    task = get_task(spec["model"]["head"])
    prepared = task.prepare(task.load_raw(spec["data"]), spec, AutoTokenizer.from_pretrained(model_path))
    ours = prepared.validation
    return len(ours) == len(course_eval) and all(
        [list(row) for row in ours[name]] == [list(row) for row in course_eval[name]]
        for name in ("input_ids", "labels")
    )


def run(args) -> list[dict]:
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"wb-{args.task}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    model_path = make_model(args, workdir)
    chosen = settings(args)
    train_file, eval_file = text_files(args)
    print(
        f"{args.task}: train {train_file.name} ({args.train_rows or 'all'} documents), evaluate {eval_file.name}"
        f" ({args.eval_rows or 'all'}); model {model_path}; blocks of {args.block_size}; batch {chosen['batch']},"
        f" lr {chosen['lr']}, weight decay {chosen['weight_decay']}, {chosen['scheduler']} schedule, warm-up"
        f" {chosen['warmup']}, {args.epochs:g} epochs, seed {args.seed}",
        flush=True,
    )
    rows: list[dict] = []
    if args.which in ("both", "workbench"):
        rows += run_workbench(args, model_path, workdir)
    if args.which in ("both", "trainer"):
        trainer_rows, course_eval = run_trainer(args, model_path, workdir)
        if args.task == "mlm":
            same = same_evaluation_set(args, model_path, course_eval)
            print(f"the same masked evaluation set on both sides: {same}", flush=True)
            trainer_rows[-1]["same_eval_set"] = same
        rows += trainer_rows
    return rows


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rows = run(args)
    for row in rows:
        print(json.dumps(row))
    final = {row["side"]: row["perplexity"] for row in rows if "perplexity" in row}
    if len(final) == 2:
        gap = final["workbench"] / final["trainer"] - 1
        print(f"final perplexity: workbench {final['workbench']:.3f}, trainer {final['trainer']:.3f} ({gap:+.2%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
