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
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    lora = parser.add_argument_group("LoRA comparison (--task clm --lora-r R --model TRAINED_CAUSAL_LM)")
    lora.add_argument("--lora-r", type=int, default=0, help="LoRA rank; > 0 runs the LoRA comparison")
    lora.add_argument("--lora-alpha", type=float, default=16.0)
    lora.add_argument("--lora-dropout", type=float, default=0.05)
    lora.add_argument("--adapt-file", type=Path, help="blank-line separated text to adapt to (Tiny Shakespeare)")
    lora.add_argument("--eval-share", type=float, default=0.1, help="share of its documents (the last) evaluated")
    lora.add_argument("--lora-rows", default=DEFAULT_LORA_ROWS, help=f"comma-separated, of {', '.join(LORA_ROWS)}")
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

    train_file, eval_file = text_files(args)
    raw = datasets.load_dataset("text", data_files={"train": str(train_file), "test": str(eval_file)})
    raw = raw.filter(lambda example: bool(example["text"].strip()))  # WikiText's empty lines
    for split, limit in (("train", args.train_rows), ("test", args.eval_rows)):
        if limit:
            raw[split] = raw[split].select(range(min(limit, len(raw[split]))))
    return course_blocks(args, raw, tokenizer)


def course_blocks(args, raw, tokenizer):
    """The course's `tokenize_function` and `group_texts` over a DatasetDict with train/test `text`."""
    from transformers import DataCollatorForLanguageModeling

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
        default_data_collator,
        set_seed,
    )

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    train_dataset, eval_dataset = course_datasets(args, model_path, tokenizer)
    set_seed(args.seed)
    if args.task == "mlm":
        model = AutoModelForMaskedLM.from_pretrained(model_path)
        data_collator = DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm_probability=args.mlm_probability)

        def collate(features):  # the fixed evaluation rows carry their labels: leave them as they are
            return default_data_collator(features) if "labels" in features[0] else data_collator(features)

        train_dataset = train_dataset.remove_columns(["labels"])  # the collator masks and labels each batch
    else:
        config = AutoConfig.from_pretrained(model_path)
        model = AutoModelForCausalLM.from_config(config)
        collate = DataCollatorForLanguageModeling(tokenizer, mlm=False)
    reset_peak_memory()
    rows = train_with_trainer(args, model, tokenizer, train_dataset, eval_dataset, collate, workdir / "trainer")
    return rows, eval_dataset


def train_with_trainer(args, model, tokenizer, train_dataset, eval_dataset, collate, output: Path, side="trainer"):
    """The course's Trainer over prepared blocks: one row per epoch (the causal-LM loss per predicted
    token, as the workbench reports it), the training time and the process's peak GPU memory."""
    from transformers import Trainer, TrainingArguments

    chosen = settings(args)
    training_args = TrainingArguments(
        str(output),
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
    peak = peak_memory_mb()
    evaluations = [entry for entry in trainer.state.log_history if "eval_loss" in entry]
    # Some transformers versions (5.17 among them) divide a causal LM's summed loss by the label
    # positions counted before the model shifts them (block_size per block) while block_size - 1 are
    # predicted: their losses are the mean per predicted token times (block - 1) / block; newer ones
    # count after the shift. The factor is measured here (the model's own loss over the evaluation set
    # against Trainer's last evaluation, the same weights), so the rows give the mean per predicted
    # token (what the workbench reports) on every version, next to Trainer's own number.
    scale = 1.0
    if args.task == "clm" and evaluations:
        scale = loss_scale(own_eval_loss(trainer), evaluations[-1]["eval_loss"], args.block_size)
    rows = []
    for entry in evaluations:
        loss = entry["eval_loss"] * scale
        row = {"side": side, "epoch": round(entry["epoch"], 2), "eval_loss": loss, "perplexity": _exp(loss)}
        if scale != 1.0:
            row["trainer_reported_eval_loss"] = entry["eval_loss"]
        rows.append(row)
    rows[-1]["train_s"] = runtime
    rows[-1]["blocks"] = len(train_dataset)
    if peak is not None:
        rows[-1]["peak_gpu_memory_mb"] = peak
    return rows


def loss_scale(own: float, reported: float, block_size: int) -> float:
    """The factor from Trainer's reported causal-LM loss to the mean per predicted token: 1 or
    block / (block - 1) when the measured ratio is within 0.2% of one of them, else the ratio."""
    ratio = own / reported if reported else 1.0
    for known in (1.0, block_size / (block_size - 1)):
        if abs(ratio / known - 1) < 2e-3:
            return known
    print(f"warning: Trainer's loss is {ratio:.5f} times the model's own, neither 1 nor block/(block-1)", flush=True)
    return ratio


def own_eval_loss(trainer) -> float:
    """The model's own loss (mean per predicted token) over Trainer's evaluation batches."""
    import torch

    model = trainer.model
    model.eval()
    total = count = 0.0
    with torch.no_grad():
        for batch in trainer.get_eval_dataloader():
            batch = {key: value.to(trainer.args.device) for key, value in batch.items()}
            with trainer.compute_loss_context_manager():
                loss = model(**batch).loss
            rows = batch["input_ids"].shape[0]
            total += float(loss) * rows
            count += rows
    return total / count


def peak_memory_mb() -> float | None:
    """This process's peak GPU memory (torch.cuda.max_memory_allocated), None on the CPU."""
    import torch

    if not torch.cuda.is_available():
        return None
    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


def _exp(loss: float) -> float:
    try:
        return math.exp(loss)
    except OverflowError:
        return float("inf")


# -- the workbench run -----------------------------------------------------------------------


def workbench_spec(args, model_path: str, files: tuple[Path, Path] | None = None) -> dict:
    from workbench.training.spec import default_spec

    chosen = settings(args)
    train_file, eval_file = files or text_files(args)
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


def run_workbench(args, model_path: str, workdir: Path, spec: dict | None = None, side="workbench") -> list[dict]:
    """A workbench run (its own process) of the spec: one row per evaluation, with the training time,
    the child's peak GPU memory (summary.json) and, with LoRA, its trainable/total parameters."""
    import re

    from workbench.core.runs.protocol import read_events
    from workbench.training import runs

    info = runs.launch_run(spec or workbench_spec(args, model_path), workdir / "runs")
    print(f"{side} run {info.path}", flush=True)
    while runs.read_run(info.path).is_active:
        time.sleep(2)
    summary = runs.read_summary(info.path) or {}
    if summary.get("status") != "finished":
        raise SystemExit(f"the workbench run ended {summary.get('status')}: see {info.path / 'stdout.log'}")
    rows, counts = [], {}
    for event in read_events(info.path / "events.jsonl"):
        kind = getattr(event, "type", "")
        if kind == "log":
            found = re.search(r"LoRA: ([\d,]+) of ([\d,]+) parameters trainable", getattr(event, "message", ""))
            if found:
                counts = {"trainable": int(found[1].replace(",", "")), "total": int(found[2].replace(",", ""))}
        elif kind == "evaluation":
            metrics = event.metrics
            rows.append(
                {
                    "side": side,
                    "epoch": round(event.epoch, 2),
                    "eval_loss": metrics["eval_loss"],
                    "perplexity": metrics["perplexity"],
                }
            )
    rows[-1]["train_s"] = summary.get("train_runtime_s")
    if summary.get("peak_gpu_memory_mb") is not None:
        rows[-1]["peak_gpu_memory_mb"] = summary["peak_gpu_memory_mb"]
    if counts:
        rows[-1]["trainable_params"] = counts["trainable"]
        rows[-1]["total_params"] = counts["total"]
    rows[-1]["run"] = str(info.path)
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


# -- LoRA: a trained causal LM adapted to another domain ------------------------------------------

# The rows of the LoRA comparison: the workbench with model.lora and peft + Trainer with the same
# LoraConfig (the goal: eval loss within 2%), and full fine-tuning of the same base (the memory).
LORA_ROWS = ("workbench-lora", "trainer-lora", "workbench-full", "trainer-full")
DEFAULT_LORA_ROWS = "workbench-lora,trainer-lora,workbench-full"


def default_adapt_file() -> Path:
    for base in (ROOT.parent / "shared" / "data", Path("/work/shared/data"), ROOT / ".bench"):
        path = base / "lm" / "tinyshakespeare" / "input.txt"
        if path.is_file():
            return path
    raise SystemExit("Tiny Shakespeare not found; pass --adapt-file FILE (blank-line separated documents)")


def paragraphs(text: str) -> list[str]:
    """Blank-line separated documents (a line of spaces is blank), their lines joined by newlines:
    the workbench's `data.text_file_mode = "paragraph"` rule, so both sides read the same documents."""
    documents, current = [], []
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if line.strip():
            current.append(line)
        elif current:
            documents.append("\n".join(current))
            current = []
    if current:
        documents.append("\n".join(current))
    return documents


def adapt_split(documents: list[str], eval_share: float, train_rows: int = 0, eval_rows: int = 0):
    """The last `eval_share` of the documents (whole scenes apart from the training ones) for
    evaluation, the rest for training; each cut to its row limit (0 = all)."""
    if len(documents) < 2:
        raise SystemExit(f"the adaptation text holds {len(documents)} document(s); it needs two or more")
    held = min(len(documents) - 1, max(1, round(len(documents) * eval_share)))
    train, evaluation = documents[:-held], documents[-held:]
    return train[: train_rows or None], evaluation[: eval_rows or None]


def lora_table(args) -> dict:
    alpha = float(args.lora_alpha)
    return {
        "r": args.lora_r,
        "lora_alpha": int(alpha) if alpha.is_integer() else alpha,
        "lora_dropout": float(args.lora_dropout),
    }


def base_checkpoint(model: str | None) -> str:
    """--model: a causal LM's folder, or a workbench run folder (its final/)."""
    if not model:
        raise SystemExit("--lora-r needs --model: the trained causal LM to adapt (a model or run folder)")
    path = Path(model)
    if (path / "final" / "config.json").is_file():
        return str(path / "final")
    if not (path / "config.json").is_file():
        raise SystemExit(f"--model {model}: no config.json there (nor in final/)")
    return str(path)


def lora_spec(args, base: str, files: tuple[Path, Path], lora: bool) -> dict:
    spec = workbench_spec(args, base, files)  # the adaptation text only: WikiText-2 is not needed here
    spec["model"]["from_config"] = False
    if lora:
        spec["model"]["lora"] = lora_table(args)
    spec["data"].update(
        train_file=str(files[0]),
        validation_file=str(files[1]),
        text_file_mode="paragraph",
        max_train_samples=0,
        max_eval_samples=0,
    )
    return spec


def run_trainer_lora(args, base: str, documents: tuple[list, list], workdir: Path, lora: bool) -> list[dict]:
    """peft + Trainer as its documentation writes it (LoraConfig with the task type, peft's default
    target modules for the architecture), or full fine-tuning of the same base."""
    import datasets
    from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForLanguageModeling, set_seed

    reset_peak_memory()
    tokenizer = AutoTokenizer.from_pretrained(base)
    raw = datasets.DatasetDict(
        {split: datasets.Dataset.from_dict({"text": docs}) for split, docs in zip(("train", "test"), documents)}
    )
    train_dataset, eval_dataset = course_blocks(args, raw, tokenizer)
    set_seed(args.seed)
    model = AutoModelForCausalLM.from_pretrained(base)
    side = "trainer-lora" if lora else "trainer-full"
    if lora:
        from peft import LoraConfig, TaskType, get_peft_model

        config = LoraConfig(task_type=TaskType.CAUSAL_LM, **lora_table(args))
        model = get_peft_model(model, config)
        targets = sorted(model.peft_config["default"].target_modules)
        print(f"{side}: peft target modules {targets}", flush=True)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    collate = DataCollatorForLanguageModeling(tokenizer, mlm=False)
    rows = train_with_trainer(args, model, tokenizer, train_dataset, eval_dataset, collate, workdir / side, side)
    rows[-1]["trainable_params"] = trainable
    rows[-1]["total_params"] = total
    del model
    return rows


def reset_peak_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def run_lora(args, workdir: Path) -> list[dict]:
    base = base_checkpoint(args.model)
    text = (args.adapt_file or default_adapt_file()).read_text(encoding="utf-8")
    documents = adapt_split(paragraphs(text), args.eval_share, args.train_rows, args.eval_rows)
    folder = workdir / "adapt"
    folder.mkdir(parents=True, exist_ok=True)
    files = (folder / "train.txt", folder / "eval.txt")
    for path, docs in zip(files, documents, strict=True):
        path.write_text("\n\n".join(docs) + "\n", encoding="utf-8")
    wanted = [name.strip() for name in args.lora_rows.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in LORA_ROWS]
    if unknown:
        raise SystemExit(f"--lora-rows: unknown {', '.join(unknown)}; rows: {', '.join(LORA_ROWS)}")
    chosen = settings(args)
    print(
        f"LoRA {lora_table(args)} on {base}: {len(documents[0]):,} training / {len(documents[1]):,} evaluation"
        f" documents of {(args.adapt_file or default_adapt_file()).name}; blocks of {args.block_size}; batch"
        f" {chosen['batch']}, lr {chosen['lr']}, weight decay {chosen['weight_decay']}, {chosen['scheduler']}"
        f" schedule, warm-up {chosen['warmup']}, {args.epochs:g} epochs, seed {args.seed}; rows {', '.join(wanted)}",
        flush=True,
    )
    rows: list[dict] = []
    for name in wanted:
        lora = name.endswith("-lora")
        if name.startswith("workbench"):
            rows += run_workbench(args, base, workdir, lora_spec(args, base, files, lora), side=name)
        else:
            rows += run_trainer_lora(args, base, documents, workdir, lora)
        save_rows(args, rows)
    return rows


def save_rows(args, rows: list[dict]) -> None:
    """--json: the rows so far (a run stopped by a time limit keeps what it measured)."""
    if getattr(args, "json", None):
        args.json.write_text(json.dumps(rows, indent=2))


def summarize(rows: list[dict]) -> list[str]:
    """The lines that answer the goals: final perplexity gap (two sides), LoRA's eval-loss gap
    against peft + Trainer, and peak GPU memory against full fine-tuning."""
    last: dict[str, dict] = {}
    for row in rows:
        last[row["side"]] = row
    lines = []
    if "workbench" in last and "trainer" in last:
        ours, theirs = last["workbench"]["perplexity"], last["trainer"]["perplexity"]
        gap = ours / theirs - 1
        lines.append(f"final perplexity: workbench {ours:.3f}, trainer {theirs:.3f} ({gap:+.2%}; goal 2%)")
    if "workbench-lora" in last and "trainer-lora" in last:
        ours, theirs = last["workbench-lora"]["eval_loss"], last["trainer-lora"]["eval_loss"]
        gap = ours / theirs - 1
        lines.append(f"LoRA final eval loss: workbench {ours:.4f}, peft + Trainer {theirs:.4f} ({gap:+.2%}; goal 2%)")
    for name, row in last.items():
        memory = row.get("peak_gpu_memory_mb")
        params = row.get("trainable_params")
        detail = f", {params:,} of {row['total_params']:,} parameters trainable" if params else ""
        if memory is not None or params:
            shown = f"{memory:,.0f} MiB" if memory is not None else "n/a (CPU)"
            lines.append(f"{name}: peak GPU memory {shown}, eval loss {row['eval_loss']:.4f}{detail}")
    for lora_side, full_side in (("workbench-lora", "workbench-full"), ("trainer-lora", "trainer-full")):
        a, b = last.get(lora_side, {}).get("peak_gpu_memory_mb"), last.get(full_side, {}).get("peak_gpu_memory_mb")
        if a is not None and b is not None:
            lines.append(f"{lora_side} uses {a / b:.1%} of {full_side}'s peak GPU memory ({a:,.0f} vs {b:,.0f} MiB)")
    return lines


def run(args) -> list[dict]:
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"wb-{args.task}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.lora_r:
        if args.task != "clm":
            raise SystemExit("--lora-r: the LoRA comparison is for --task clm")
        return run_lora(args, workdir)
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
        save_rows(args, rows)
    if args.which in ("both", "trainer"):
        trainer_rows, course_eval = run_trainer(args, model_path, workdir)
        if args.task == "mlm":
            same = same_evaluation_set(args, model_path, course_eval)
            print(f"the same masked evaluation set on both sides: {same}", flush=True)
            trainer_rows[-1]["same_eval_set"] = same
        rows += trainer_rows
    return rows


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("WORKBENCH_SPARE_RUN", "0")  # no spare run processes: every row starts as a first run does
    args = build_parser().parse_args(argv)
    rows = run(args)
    for row in rows:
        print(json.dumps(row))
    for line in summarize(rows):
        print(line)
    save_rows(args, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
