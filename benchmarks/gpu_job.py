"""Whole jobs on one GPU: Trainer (as the course writes it, and tuned) against workbench runs.

Every row is a separate process started by this script, timed from the command to the process's
exit with the final model on disk, on the same data (JSON lines made here), model, max length,
batch, bf16, fused AdamW and linear schedule:

    trainer-course    the course's recipe (benchmarks/trainer_job.py --recipe course)
    trainer-tuned     + length-grouped batches, pad to a multiple of 8, 2 loader workers, pinned memory
    trainer-compile   trainer-tuned + torch_compile=True
    workbench         `workbench train spec.toml` (eager; group_by_length, pad 8, 2 workers: its defaults
                      for a GPU run as the README recommends)
    workbench-graphs  the same with model.torch_compile = true (CUDA graphs; batches padded to the
                      buckets 32, 64, 96, 128: one compile per bucket)
    workbench-dynamic the same with model.compile_dynamic = true as well (one compile for every length,
                      batches padded to a multiple of 8, a CUDA graph recorded per length)
    workbench-dynamic16  the same padded to a multiple of 16 (half the CUDA graphs, more padding)

Jobs:
    short  the course's MRPC fine-tune: a pretrained model, 3 epochs, batch 32, F1 each epoch
    long   BERT-base from a config on MRPC repeated to --rows rows, 1 epoch, batch 128, no evaluation

Columns, all computed here: wall s (whole job), first step s (command to the first optimizer step),
steady samples/s and real-token MFU over the same window of steps for every row, peak GPU memory of the
row's processes (NVML), validation F1 (short job).

    python benchmarks/gpu_job.py --job short --model DIR --train train.tsv --validation dev.tsv --json OUT
    python benchmarks/gpu_job.py --job long --tokenizer DIR --train train.tsv --rows 200000 --json OUT

Spare run processes are on by default (`WORKBENCH_SPARE_RUN=0` turns them off): a workbench row after the first
may be taken by the spare the row before it started.

`--repeat-workbench 2` runs each workbench row twice in the same runs directory: the second run
(`workbench-warm`) starts with the tokenized data and, for `workbench-graphs-warm`, the compiled
graphs in the runs directory's cache (`<runs>/.cache/`); each row's cache lines are printed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from gpu_throughput import BF16_DENSE_PEAK, read_mrpc  # noqa: E402  (one MRPC reader, one peak table)

ROWS = (
    "trainer-course",
    "trainer-tuned",
    "trainer-compile",
    "workbench",
    "workbench-graphs",
    "workbench-dynamic",
    "workbench-dynamic16",
)
LOGGING_STEPS = 10


def read_pairs(path: Path) -> list[dict]:
    """MRPC's TSV (gpu_throughput's reader) or JSON lines with sentence1/sentence2/label."""
    if path.suffix in {".jsonl", ".json"}:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return read_mrpc(path)


def write_jsonl(rows: list[dict], path: Path, count: int | None = None) -> Path:
    count = count or len(rows)
    with open(path, "w", encoding="utf-8") as file:
        for index in range(count):
            file.write(json.dumps(rows[index % len(rows)]) + "\n")
    return path


def random_bert_base(tokenizer_dir: Path, folder: Path) -> Path:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    BertForSequenceClassification(BertConfig(vocab_size=tokenizer.vocab_size, num_labels=2)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def mean_real_tokens(model_dir: Path, rows: list[dict], max_length: int) -> float:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    sample = rows[:5000]
    encoded = tokenizer(
        [r["sentence1"] for r in sample], [r["sentence2"] for r in sample], truncation=True, max_length=max_length
    )
    return statistics.fmean(len(ids) for ids in encoded["input_ids"])


def count_parameters(model_dir: Path) -> int:
    from workbench.training.estimate import count_parameters as from_headers

    return from_headers(model_dir) or 0


def gpu_peak_flops() -> tuple[str, float]:
    try:
        import pynvml

        pynvml.nvmlInit()
        name = pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(0))
        name = name.decode() if isinstance(name, bytes) else name
        driver = pynvml.nvmlSystemGetDriverVersion()
        driver = driver.decode() if isinstance(driver, bytes) else driver
    except Exception:  # no NVIDIA driver: a CPU dry run
        return "cpu (dry run)", float("nan")
    peak = next((value for key, value in BF16_DENSE_PEAK.items() if key in name), float("nan"))
    return f"{name}, driver {driver}", peak


class TreeMemory:
    """Peak GPU memory (NVML) of a process and its descendants, sampled in a thread; with a spare run
    process (WORKBENCH_SPARE_RUN=1) the run is in the spare's process tree, not the command's, so every
    process that comes onto the GPU during the row counts (a waiting spare has no CUDA context)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_mb = 0.0
        self.spares = os.environ.get("WORKBENCH_SPARE_RUN", "1").strip().lower() not in ("0", "false", "no", "off")
        self.already_on_gpu: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        try:
            import pynvml

            pynvml.nvmlInit()
            self.already_on_gpu = {process.pid for process in self._gpu_processes()}
            self._thread.start()
        except Exception:
            pass  # no NVIDIA driver: a CPU dry run reports 0
        return self

    def _pids(self) -> set[int]:
        import psutil

        try:
            root = psutil.Process(self.pid)
            return {self.pid} | {child.pid for child in root.children(recursive=True)}
        except psutil.Error:
            return set()

    @staticmethod
    def _gpu_processes() -> list:
        import pynvml

        return [
            process
            for index in range(pynvml.nvmlDeviceGetCount())
            for process in pynvml.nvmlDeviceGetComputeRunningProcesses(pynvml.nvmlDeviceGetHandleByIndex(index))
        ]

    def _loop(self) -> None:
        while not self._stop.is_set():
            pids = self._pids()
            used = 0.0
            for process in self._gpu_processes():
                counted = process.pid in pids or (self.spares and process.pid not in self.already_on_gpu)
                if counted and process.usedGpuMemory:
                    used += process.usedGpuMemory / 2**20
            self.peak_mb = max(self.peak_mb, used)
            self._stop.wait(0.25)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def timed_process(command: list[str], log: Path, env: dict | None = None) -> tuple[float, float, float]:
    """Start `command`, wait for it; (started, wall seconds, peak GPU MB). A failure stops the benchmark."""
    started = time.time()
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        with TreeMemory(process.pid) as memory:
            code = process.wait()
    wall = time.time() - started
    if code != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... exited {code}; its log:\n{log.read_text()[-4000:]}")
    return started, wall, memory.peak_mb


def trainer_row(name: str, job: dict, workdir: Path) -> dict:
    out = workdir / name
    out.mkdir()
    timeline_file = out / "timeline.json"
    started = time.time()
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "trainer_job.py"),
        "--recipe",
        "course" if name == "trainer-course" else "tuned",
        "--model",
        str(job["model"]),
        "--train",
        str(job["train"]),
        "--epochs",
        str(job["epochs"]),
        "--batch",
        str(job["batch"]),
        "--learning-rate",
        str(job["learning_rate"]),
        "--max-length",
        str(job["max_length"]),
        "--window",
        *map(str, job["window"]),
        "--out",
        str(out),
        "--timeline",
        str(timeline_file),
        "--started",
        repr(started),
    ]
    if job.get("validation"):
        command += ["--validation", str(job["validation"])]
    if name == "trainer-compile":
        command.append("--compile")
    _, wall, peak = timed_process(command, out / "log.txt")
    timeline = json.loads(timeline_file.read_text())
    first, last = job["window"]
    return {
        "wall_s": wall,
        "first_step_s": timeline.get("first_step"),
        "window_s": timeline[f"step_{last}"] - timeline[f"step_{first}"],
        "peak_gpu_mb": peak,
        "f1": [round(e["f1"], 4) for e in timeline.get("evaluations", [])],
        "total_steps": timeline.get("total_steps"),
    }


def workbench_row(name: str, job: dict, workdir: Path, label: str | None = None) -> dict:
    """One `workbench train` of row `name` (its output under `label`, the name by default). Every
    workbench row shares one runs directory, `job["runs_dir"]`, and with it the caches in its
    `.cache/` (tokenized data, compiled graphs): a repeated row shows the warm start."""
    import torch

    from workbench.core.runs.folder import run_folders
    from workbench.core.runs.protocol import Evaluation, EventReader, LogLine, RunStarted, Step
    from workbench.training.spec import default_spec, dump_spec

    out = workdir / (label or name)
    out.mkdir()
    runs_dir = Path(job["runs_dir"])
    runs_dir.mkdir(parents=True, exist_ok=True)
    before = set(run_folders(runs_dir))
    spec = default_spec(model=str(job["model"]), data=str(job["train"]))
    spec["data"].update(
        text_column="sentence1",
        text_pair_column="sentence2",
        label_column="label",
        max_length=job["max_length"],
        validation_file=str(job.get("validation") or ""),
    )
    gpu = torch.cuda.is_available()
    spec["training"].update(
        num_train_epochs=job["epochs"],
        per_device_train_batch_size=job["batch"],
        per_device_eval_batch_size=max(job["batch"], 64),
        learning_rate=job["learning_rate"],
        mixed_precision="bf16" if gpu else "no",
        eval_strategy="epoch" if job.get("validation") else "no",
        save_steps=10**9,  # no checkpoints, as Trainer's save_strategy="no"
        logging_steps=LOGGING_STEPS,
        metrics=["accuracy", "f1"] if job.get("validation") else [],
        group_by_length=True,
        pad_to_multiple_of=16 if name == "workbench-dynamic16" else 8,
        dataloader_num_workers=2,
    )
    spec["model"]["torch_compile"] = name in ("workbench-graphs", "workbench-dynamic", "workbench-dynamic16")
    spec["model"]["compile_dynamic"] = name.startswith("workbench-dynamic")
    spec_file = out / "spec.toml"
    spec_file.write_text(dump_spec(spec))
    command = [sys.executable, "-m", "workbench", "train", str(spec_file)]
    env = dict(
        os.environ,
        WORKBENCH_RUNS_DIR=str(runs_dir),
        PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    )
    started, wall, peak = timed_process(command, out / "log.txt", env=env)
    (run_dir,) = set(run_folders(runs_dir)) - before
    if job.get("keep"):  # the run's events and log, to read where the time went
        Path(job["keep"]).mkdir(parents=True, exist_ok=True)
        for name_in_run in ("events.jsonl", "stdout.log"):
            target = Path(job["keep"]) / f"{label or name}-{name_in_run}"
            target.write_bytes((run_dir / name_in_run).read_bytes())
    events = list(EventReader(run_dir / "events.jsonl").poll())
    caches = [
        e.message
        for e in events
        if isinstance(e, LogLine) and e.message.startswith(("tokenized data:", "compile cache:"))
    ]
    step_times = {e.step: e.time - started for e in events if isinstance(e, Step)}
    first, last = job["window"]
    first_step = next(
        (e.time - started for e in events if isinstance(e, LogLine) and e.message.startswith("first optimizer step")),
        None,
    )
    started_event = next(e for e in events if isinstance(e, RunStarted))
    return {
        "wall_s": wall,
        "first_step_s": first_step,
        "window_s": step_times[last] - step_times[first],
        "peak_gpu_mb": peak,
        "f1": [round(e.metrics["f1"], 4) for e in events if isinstance(e, Evaluation) and "f1" in e.metrics],
        "total_steps": started_event.total_steps,
        "run_started_s": started_event.time - started,
        "caches": caches,
    }


def make_job(args, workdir: Path) -> dict:
    train_rows = read_pairs(args.train)
    if args.job == "short":
        model = args.model
        train = write_jsonl(train_rows, workdir / "train.jsonl")
        validation = write_jsonl(read_pairs(args.validation), workdir / "validation.jsonl") if args.validation else None
        epochs, batch, rows, lr = 3, args.batch or 32, len(train_rows), 2e-5
    else:
        model = random_bert_base(args.tokenizer, workdir / "bert-base-random")
        train = write_jsonl(train_rows, workdir / "train.jsonl", args.rows)
        validation, epochs, batch, rows, lr = None, 1, args.batch or 128, args.rows, 5e-5
    steps_per_epoch = math.ceil(rows / batch)
    total = steps_per_epoch * epochs
    if args.job == "short":  # inside the second epoch: no evaluation in the window, for either side
        window = (
            math.ceil((steps_per_epoch + 5) / LOGGING_STEPS) * LOGGING_STEPS,
            (2 * steps_per_epoch) // LOGGING_STEPS * LOGGING_STEPS,
        )
    else:
        window = (
            round(0.2 * total / LOGGING_STEPS) * LOGGING_STEPS,
            int(0.98 * total) // LOGGING_STEPS * LOGGING_STEPS,
        )
    return {
        "model": model,
        "train": train,
        "validation": validation,
        "epochs": epochs,
        "batch": batch,
        "learning_rate": lr,
        "max_length": 128,
        "window": window,
        "total_steps": total,
        "real_tokens_per_sample": mean_real_tokens(model, train_rows, 128),
        "parameters": count_parameters(model),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", choices=("short", "long"), required=True)
    parser.add_argument("--model", type=Path, help="short job: a pretrained sequence-classification-ready model")
    parser.add_argument("--tokenizer", type=Path, help="long job: the tokenizer for the BERT-base made from a config")
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--validation", type=Path)
    parser.add_argument("--rows", type=int, default=200_000, help="long job: the train file repeated to this many")
    parser.add_argument("--batch", type=int, default=0, help="0 = the job's own (short 32, long 128)")
    parser.add_argument("--only", nargs="+", choices=ROWS, default=list(ROWS))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", type=Path, help="copy each workbench run's events.jsonl and stdout.log here")
    parser.add_argument(
        "--repeat-workbench",
        type=int,
        default=1,
        metavar="N",
        help="run each workbench row N times in a row (the first cold, the others '-warm': same runs"
        " directory, so the tokenized-data and compile caches are warm)",
    )
    parser.add_argument(
        "--runs-dir",
        type=Path,
        help="the workbench rows' runs directory (default: a new one in the work folder, so the first run is cold)",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix=f"wb-job-{args.job}-"))
    job = make_job(args, workdir)
    job["keep"] = args.keep
    job["runs_dir"] = args.runs_dir or workdir / "runs"
    gpu_name, peak = gpu_peak_flops()
    print(
        f"GPU: {gpu_name}; job {args.job}: {job['total_steps']} steps, batch {job['batch']}, "
        f"window steps {job['window'][0]}-{job['window'][1]}, {job['parameters'] / 1e6:.1f} M parameters, "
        f"{job['real_tokens_per_sample']:.1f} real tokens a sample",
        flush=True,
    )
    table = []
    planned = []
    for name in args.only:
        if name.startswith("trainer"):
            planned.append((name, name))
        else:
            repeats = max(1, args.repeat_workbench)
            planned += [
                (name, name if i == 0 else f"{name}-warm" + (str(i) if repeats > 2 else "")) for i in range(repeats)
            ]
    for name, label in planned:
        try:
            if name.startswith("trainer"):
                row = trainer_row(name, job, workdir)
            else:
                row = workbench_row(name, job, workdir, label)
        except (SystemExit, Exception) as error:  # one broken row must not lose the others
            print(f"{label}: failed: {error}", flush=True)
            continue
        samples = (job["window"][1] - job["window"][0]) * job["batch"]
        row.update(name=label, steady_samples_per_s=samples / row["window_s"])
        row["mfu"] = 6 * job["parameters"] * row["steady_samples_per_s"] * job["real_tokens_per_sample"] / peak
        table.append(row)
        print(json.dumps(row, default=str), flush=True)

    reference = {"short": "trainer-course", "long": "trainer-tuned"}[args.job]
    base = next((r for r in table if r["name"] == reference), None)
    print(
        f"\n{'row':<22}{'wall s':>8}{'x ' + reference:>22}{'1st step s':>11}{'steady/s':>10}{'x':>7}"
        f"{'MFU':>7}{'peak MB':>9}  F1 by epoch"
    )
    for row in table:
        wall_ratio = row["wall_s"] / base["wall_s"] if base else float("nan")
        speed_ratio = row["steady_samples_per_s"] / base["steady_samples_per_s"] if base else float("nan")
        first = row["first_step_s"]
        print(
            f"{row['name']:<22}{row['wall_s']:>8.1f}{wall_ratio:>22.2f}{first if first else float('nan'):>11.1f}"
            f"{row['steady_samples_per_s']:>10.0f}{speed_ratio:>7.2f}{row['mfu']:>7.1%}{row['peak_gpu_mb']:>9.0f}"
            f"  {row['f1']}"
        )
    for row in table:
        for line in row.get("caches") or []:
            print(f"{row['name']}: {line}")
    print(
        f"steady: steps {job['window'][0]}-{job['window'][1]} for every row; MFU: 6 x parameters x real tokens/s "
        f"over the bf16 dense peak; wall: command to exit with the model saved"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"gpu": gpu_name, "job": {k: str(v) for k, v in job.items()}, "rows": table}, indent=2, default=str
            )
        )


if __name__ == "__main__":
    main()
