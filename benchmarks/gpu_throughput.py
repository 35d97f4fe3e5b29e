"""GPU training throughput: the course's `Trainer` recipe against a workbench run, one table.

Job: a BERT-base-sized encoder made from a config (about 110 M parameters, random weights),
sequence-pair classification on the MRPC train file repeated to a few tens of thousands of
rows, max length 128, bf16, at each batch size given. Both sides see the same model, data,
tokenizer and steps; throughput is measured over the steady state (after `--warmup` steps).

    python benchmarks/gpu_throughput.py --batch 32 128 --steps 300 [--processes 2] [--json OUT]

Columns: samples/s, tokens/s (non-padding tokens), step time, peak GPU memory of the training
process (NVML), model FLOPs utilisation = 6 x parameters x tokens/s / the GPU's bf16 dense peak,
and the workbench/Trainer ratio. `--overhead` adds a workbench run with step events and system
sampling off, to price them.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BF16_DENSE_PEAK = {"H200": 989e12, "H100": 989e12, "A100": 312e12}
MRPC_DEFAULT = ROOT.parent / "shared" / "data" / "glue" / "mrpc" / "train.tsv"


def gpu_peak_flops() -> tuple[str, float]:
    import torch

    if not torch.cuda.is_available():
        return "cpu (dry run)", float("nan")
    name = torch.cuda.get_device_name(0)
    for key, peak in BF16_DENSE_PEAK.items():
        if key in name:
            return name, peak
    return name, float("nan")


def read_mrpc(path: Path) -> list[dict]:
    """MRPC's TSV has a BOM and unbalanced quotes: read it with quoting off."""
    with open(path, encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [{"sentence1": r["#1 String"], "sentence2": r["#2 String"], "label": int(r["Quality"])} for r in rows]


def prepare(workdir: Path, tokenizer_source: Path, mrpc: Path, rows: int, tiny: bool = False) -> tuple[Path, Path, int]:
    """Write the data (JSON lines) and a BERT-base model folder with random weights."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    base = read_mrpc(mrpc)
    data = workdir / "mrpc_repeated.jsonl"
    with open(data, "w", encoding="utf-8") as file:
        for index in range(rows):
            file.write(json.dumps(base[index % len(base)]) + "\n")
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_source)
    torch.manual_seed(0)
    sizes = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128) if tiny else {}
    config = BertConfig(vocab_size=tokenizer.vocab_size, num_labels=2, **sizes)  # default: bert-base, 12 x 768
    model = BertForSequenceClassification(config)
    parameters = sum(p.numel() for p in model.parameters())
    model_dir = workdir / "bert-base-random"
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    return data, model_dir, parameters


class NvmlPeak:
    """Peak GPU memory of a set of processes, sampled by NVML in a thread."""

    def __init__(self, pids_fn) -> None:
        self.pids_fn = pids_fn
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        import pynvml

        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError:
            return self  # no NVIDIA driver: a CPU dry run
        self._thread.start()
        return self

    def _loop(self) -> None:
        import pynvml

        while not self._stop.is_set():
            pids = set(self.pids_fn())
            total = 0.0
            for index in range(pynvml.nvmlDeviceGetCount()):
                handle = pynvml.nvmlDeviceGetHandleByIndex(index)
                for process in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
                    if process.pid in pids and process.usedGpuMemory:
                        total = max(total, process.usedGpuMemory / 2**20)
            self.peak_mb = max(self.peak_mb, total)
            self._stop.wait(0.5)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def run_trainer(model_dir: Path, data: Path, batch: int, steps: int, warmup: int, workdir: Path) -> dict:
    """The course's recipe: tokenize with map, DataCollatorWithPadding, Trainer with bf16."""
    import torch
    from datasets import load_dataset
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    dataset = load_dataset("json", data_files=str(data), split="train", cache_dir=str(workdir / "hf-cache"))
    tokenized = dataset.map(
        lambda rows: tokenizer(rows["sentence1"], rows["sentence2"], truncation=True, max_length=128),
        batched=True,
        remove_columns=["sentence1", "sentence2"],
    )
    mean_tokens = sum(len(ids) for ids in tokenized["input_ids"]) / len(tokenized)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=2)

    class Clock(TrainerCallback):
        marks: dict[int, float] = {}

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step in (warmup, steps):
                if torch.cuda.is_available():
                    torch.cuda.synchronize()
                self.marks[state.global_step] = time.perf_counter()

    arguments = TrainingArguments(
        output_dir=str(workdir / "trainer-out"),
        per_device_train_batch_size=batch,
        max_steps=steps,
        learning_rate=5e-5,
        bf16=torch.cuda.is_available(),
        logging_steps=50,
        save_strategy="no",
        eval_strategy="no",
        report_to=[],
        seed=42,
        disable_tqdm=True,
    )
    clock = Clock()
    trainer = Trainer(
        model=model,
        args=arguments,
        train_dataset=tokenized,
        data_collator=DataCollatorWithPadding(tokenizer),
        callbacks=[clock],
    )
    with NvmlPeak(lambda: [os.getpid()]) as memory:
        trainer.train()
    seconds = clock.marks[steps] - clock.marks[warmup]
    samples_per_s = (steps - warmup) * batch / seconds
    result = {
        "samples_per_s": samples_per_s,
        "tokens_per_s": samples_per_s * mean_tokens,
        "step_time_ms": 1000 * seconds / (steps - warmup),
        "peak_gpu_mb": memory.peak_mb,
        "optimizer": arguments.optim if isinstance(arguments.optim, str) else arguments.optim.value,
    }
    del trainer, model
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return result


def run_workbench(
    model_dir: Path,
    data: Path,
    batch: int,
    steps: int,
    warmup: int,
    workdir: Path,
    processes: int,
    *,
    events_on: bool = True,
    compile_model: bool = False,
    extra: dict | None = None,
) -> dict:
    """A real workbench run: the spec, `accelerate launch` and the child, read back from events."""
    import torch

    from workbench.core.runs.protocol import EventReader, Failed, Finished, Step, SystemSample
    from workbench.training import runs
    from workbench.training.spec import default_spec

    spec = default_spec(model=str(model_dir), data=str(data))
    spec["data"].update(text_column="sentence1", text_pair_column="sentence2", label_column="label", max_length=128)
    spec["training"].update(
        per_device_train_batch_size=batch,
        max_steps=steps,
        eval_strategy="no",
        mixed_precision="bf16" if torch.cuda.is_available() else "no",
        save_steps=10**9,
        logging_steps=10,
        num_processes=processes,
        metrics=[],
        group_by_length=True,
        pad_to_multiple_of=8,
        dataloader_num_workers=2,
    )
    spec["model"]["torch_compile"] = compile_model
    spec["monitor"].update(step_events=events_on, system_sample_interval_s=2.0 if events_on else 0.0)
    for dotted, value in (extra or {}).items():
        section, key = dotted.split(".", 1)
        spec[section][key] = value
    info = runs.launch_run(spec, runs_dir=workdir / "runs")
    reader = EventReader(info.path / "events.jsonl")
    step_events: list[Step] = []
    gpu_seen: dict[int, dict] = {}
    final = None
    with NvmlPeak(lambda: runs.run_pids(info.path)) as memory:
        deadline = time.time() + 1200
        while final is None and time.time() < deadline:
            for event in reader.poll():
                if isinstance(event, Step):
                    step_events.append(event)
                elif isinstance(event, SystemSample):
                    for gpu in event.gpus:
                        seen = gpu_seen.setdefault(gpu.index, {"max_util": 0.0, "max_mem_mb": 0.0})
                        seen["max_util"] = max(seen["max_util"], gpu.utilization or 0.0)
                        seen["max_mem_mb"] = max(seen["max_mem_mb"], gpu.memory_used_mb or 0.0)
                elif isinstance(event, (Finished, Failed)):
                    final = event
            if not runs.is_alive(info.path) and final is None:
                time.sleep(1.0)
                final = next((e for e in reader.poll() if isinstance(e, (Finished, Failed))), None)
                break
            time.sleep(0.2)
    if not isinstance(final, Finished):
        raise SystemExit(f"workbench run {info.path} did not finish: {final}\n{runs.log_tail(info.path)}")
    result = {
        "train_runtime_s": final.summary.get("train_runtime_s"),
        "peak_gpu_mb": memory.peak_mb,
        "gpus": gpu_seen,
        "run_dir": str(info.path),
    }
    steady = [event for event in step_events if event.step > warmup]
    if len(steady) >= 2:
        first, last = steady[0], steady[-1]
        seconds = last.time - first.time
        samples_per_s = (last.step - first.step) * batch * processes / seconds
        tokens = sum(e.tokens_per_s * e.step_time_s * 10 for e in steady[1:])  # windows of logging_steps
        # The median logging window: steady state, without the windows where torch.compile
        # compiled a new shape (a compiled run's first batches of each padding length).
        window_ms = 1000 * statistics.median(event.step_time_s for event in steady[1:])
        result.update(
            samples_per_s=samples_per_s,
            tokens_per_s=tokens / seconds,
            step_time_ms=1000 * seconds / (last.step - first.step),
            steady_step_ms=window_ms,
            steady_samples_per_s=batch * processes * 1000 / window_ms,
        )
    return result


def main() -> None:
    os.environ.setdefault("WORKBENCH_SPARE_RUN", "0")  # no spare run processes: every row starts as a first run does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--rows", type=int, default=29344, help="MRPC train repeated to this many rows")
    parser.add_argument("--processes", type=int, default=1, help="GPUs for the workbench run")
    parser.add_argument("--mrpc", type=Path, default=MRPC_DEFAULT)
    parser.add_argument("--tokenizer", type=Path, default=None, help="default: the embedded model's tokenizer")
    parser.add_argument("--skip-trainer", action="store_true")
    parser.add_argument("--compile", action="store_true", help="also a workbench run with torch.compile")
    parser.add_argument("--skip-eager", action="store_true", help="no plain (eager) workbench run")
    parser.add_argument("--overhead", action="store_true", help="also a workbench run with events and sampling off")
    parser.add_argument("--fsdp", action="store_true", help="also a workbench FSDP run on --processes GPUs")
    parser.add_argument("--tiny", action="store_true", help="a tiny model: a CPU dry run of the whole benchmark")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    if args.tokenizer is None:
        from workbench.core.embedded import embedded_model_path

        args.tokenizer = embedded_model_path()
    workdir = Path(tempfile.mkdtemp(prefix="wb-gpu-bench-"))
    data, model_dir, parameters = prepare(workdir, args.tokenizer, args.mrpc, args.rows, args.tiny)
    gpu_name, peak = gpu_peak_flops()
    print(f"GPU: {gpu_name}; model parameters: {parameters / 1e6:.1f} M; rows: {args.rows}", flush=True)

    table = []
    for batch in args.batch:
        variants = []
        if not args.skip_trainer:
            variants.append(("Trainer", lambda: run_trainer(model_dir, data, batch, args.steps, args.warmup, workdir)))
        if not args.skip_eager:
            variants.append(
                ("workbench", lambda: run_workbench(model_dir, data, batch, args.steps, args.warmup, workdir, 1))
            )
        if args.compile:
            variants.append(
                (
                    "workbench+compile",
                    lambda: run_workbench(
                        model_dir, data, batch, args.steps, args.warmup, workdir, 1, compile_model=True
                    ),
                )
            )
        if args.overhead:
            variants.append(
                (
                    "workbench, events off",
                    lambda: run_workbench(model_dir, data, batch, args.steps, args.warmup, workdir, 1, events_on=False),
                )
            )
        if args.processes > 1:
            variants.append(
                (
                    f"workbench x{args.processes} DDP",
                    lambda: run_workbench(model_dir, data, batch, args.steps, args.warmup, workdir, args.processes),
                )
            )
            if args.fsdp:
                variants.append(
                    (
                        f"workbench x{args.processes} FSDP",
                        lambda: run_workbench(
                            model_dir,
                            data,
                            batch,
                            args.steps,
                            args.warmup,
                            workdir,
                            args.processes,
                            extra={"training.distributed": "fsdp"},
                        ),
                    )
                )
        for name, run in variants:
            started = time.time()
            result = run()
            result.update(name=name, batch=batch, wall_s=time.time() - started)
            if "tokens_per_s" in result:
                result["mfu"] = 6 * parameters * result["tokens_per_s"] / peak
            table.append(result)
            print(json.dumps(result, default=str), flush=True)

    print()
    header = (
        f"{'run':<24}{'batch':>6}{'samples/s':>11}{'tokens/s':>11}{'step ms':>9}{'steady/s':>10}{'peak MB':>9}"
        f"{'MFU':>7}{'vs Trainer':>11}"
    )
    print(header)
    for row in table:
        trainer = next((r for r in table if r["name"] == "Trainer" and r["batch"] == row["batch"]), None)
        ratio = (
            row.get("samples_per_s", 0) / trainer["samples_per_s"]
            if trainer and "samples_per_s" in row
            else float("nan")
        )
        print(
            f"{row['name']:<24}{row['batch']:>6}{row.get('samples_per_s', float('nan')):>11.0f}"
            f"{row.get('tokens_per_s', float('nan')):>11.0f}{row.get('step_time_ms', float('nan')):>9.1f}"
            f"{row.get('steady_samples_per_s', row.get('samples_per_s', float('nan'))):>10.0f}"
            f"{row['peak_gpu_mb']:>9.0f}{row.get('mfu', float('nan')):>7.1%}{ratio:>11.2f}"
        )
    print("samples/s and step ms: over every step after the warm-up; steady/s: from the median logging window")
    if args.json:
        args.json.write_text(
            json.dumps({"gpu": gpu_name, "parameters": parameters, "rows": table}, indent=2, default=str)
        )


if __name__ == "__main__":
    main()
