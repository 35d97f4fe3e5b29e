"""`workbench demo embedded`: seconds from start to the first answered request; tracker mirroring cost per event.

1. Starts `python -m workbench demo embedded --labels "neg, pos"` as a user would, and asks Gradio's
   HTTP API (POST /gradio_api/call/predict, then its event stream) until the first answer arrives.
   Printed: start -> "Demo ... at" line (import, model load, launch), and start -> first answer, then
   where the time went: the steps `workbench demo --timings` prints (python+cli, import gradio, then
   the wait for the model, which a child process loads meanwhile: model [child] (torch, transformers,
   weights) and warm-up [child] (one real answer before the URL is shown), build, launch),
   the announce (the line reaching this script) and the first answer (request -> answer through Gradio).
   Goal: under 5 s. Repeated `--repeats` times (the first run also pays for a cold disk cache).
   `--spare`: the runs after the first are served by a spare demo the run before started (steps marked
   [spare]: done in the spare, which has gradio imported; [child]: its model process).
2. For each tracker that is installed, mirrors the recorded run's events (the Training pane's fixture,
   868 events) through `TrackerMirror` as the child does (a background thread) and reports the cost
   to the training loop per event (the emit() call), plus the background writer's cost per event
   (threaded=False, in the caller's thread). Goal: emit under 1% of the run's median step time.

    .venv/bin/python benchmarks/demo_first_request.py [--repeats 3] [--spare] [--skip-demo] [--skip-trackers]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
FIXTURE_RUN = ROOT / "tests" / "training" / "pane" / "fixtures" / "runs" / "20251231-090000-minilm-f00d"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ask(port: int, text: str) -> dict | None:
    """One request through Gradio's HTTP API; None while the server is not up."""
    base = f"http://127.0.0.1:{port}/gradio_api/call/predict"
    body = json.dumps({"data": [text]}).encode()
    request = urllib.request.Request(base, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            event_id = json.load(response)["event_id"]
        with urllib.request.urlopen(f"{base}/{event_id}", timeout=60) as stream:
            for raw in stream:
                line = raw.decode().strip()
                if line.startswith("data:") and line[5:].strip() not in ("", "null"):
                    return json.loads(line[5:])
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    return None


def time_first_request(timeout: float = 300.0, model: str = "embedded") -> tuple[float, float, dict, dict[str, float]]:
    """(start -> listening, start -> first answer, the answer, the demo's own timings by step)."""
    port = _free_port()
    command = [sys.executable, "-m", "workbench", "demo", model, "--labels", "neg, pos", "--port", str(port)]
    command.append("--timings")
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
        os.set_blocking(process.stdout.fileno(), False)
        listening = None
        try:
            while time.perf_counter() - started < timeout:
                line = process.stdout.readline()
                if listening is None and line.startswith("Demo of"):
                    listening = time.perf_counter() - started
                if listening is not None:
                    answer = _ask(port, "I've been waiting for a course like this my whole life.")
                    if answer is not None:
                        answered = time.perf_counter() - started
                        errors.seek(0)
                        return listening, answered, answer[0], parse_timings(errors.read())
                if process.poll() is not None:
                    errors.seek(0)
                    raise SystemExit(f"workbench demo exited with {process.returncode}: {errors.read()[-2000:]}")
                time.sleep(0.02)
            raise SystemExit(f"no answer within {timeout:.0f} s")
        finally:
            process.terminate()
            process.wait(timeout=30)


def parse_timings(stderr: str) -> dict[str, tuple[float, float]]:
    """`timings: python+cli 0.31 s (cpu 0.30 s), …, total 9.87 s (cpu 9.50 s)` -> {step: (wall, cpu)}."""
    for line in stderr.splitlines():
        if line.startswith("timings: "):
            steps = {}
            for part in line[len("timings: ") :].split("), "):
                match = re.fullmatch(r"(.+) ([\d.]+) s \(cpu ([\d.]+) s\)?", part.strip())
                if match:
                    steps[match[1]] = (float(match[2]), float(match[3]))
            return steps
    return {}


def cpu_seconds() -> float:
    """CPU seconds of this machine so far (all processes), to tell a slow run from a crowded machine."""
    try:
        with open("/proc/stat", encoding="ascii") as file:
            fields = file.readline().split()[1:]
        return (int(fields[0]) + int(fields[1]) + int(fields[2])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def tracker_costs() -> None:
    from workbench.core.runs.protocol import Step, read_events
    from workbench.training.trackers import TRACKERS, TrackerMirror

    # trackio reads TRACKIO_DIR when imported: a scratch store, not the user's.
    store = tempfile.mkdtemp(prefix="bench-trackio-")
    os.environ["TRACKIO_DIR"] = store
    events = read_events(FIXTURE_RUN / "events.jsonl")
    step_time = statistics.median(e.step_time_s for e in events if isinstance(e, Step) and e.step_time_s)
    print(f"\ntracker mirroring, {len(events)} events of the recorded run (median step {step_time * 1000:.0f} ms)")
    print(f"{'tracker':<12} {'emit p50':>10} {'emit p99':>10} {'% of step':>10} {'writer/event':>13}")
    for name in TRACKERS:
        module = {"tensorboard": "tensorboard", "trackio": "trackio", "wandb": "wandb"}[name]
        try:
            __import__(module)
        except ImportError:
            print(f"{name:<12} not installed")
            continue
        with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(io.StringIO()):  # trackio's banner
            os.environ["WANDB_SILENT"] = "true"
            run_dir = Path(scratch) / FIXTURE_RUN.name
            shutil.copytree(FIXTURE_RUN, run_dir)
            mirror = TrackerMirror([name], run_dir, threaded=True, trackio_project="bench-threaded")
            mirror.emit(events[0])  # the start (imports, init) is paid once, before the first step
            costs = []
            for event in events[1:]:
                began = time.perf_counter()
                mirror.emit(event)
                costs.append(time.perf_counter() - began)
            mirror.close()
            synchronous = TrackerMirror([name], run_dir, threaded=False, trackio_project="bench-sync")
            synchronous.tensorboard_dir = run_dir / "tensorboard-sync"
            synchronous.emit(events[0])
            began = time.perf_counter()
            for event in events[1:]:
                synchronous.emit(event)
            writer = (time.perf_counter() - began) / (len(events) - 1)
            synchronous.close()
        costs.sort()
        p50, p99 = costs[len(costs) // 2], costs[int(len(costs) * 0.99)]
        print(
            f"{name:<12} {p50 * 1e6:>8.1f}µs {p99 * 1e6:>8.1f}µs {p50 / step_time * 100:>9.4f}% {writer * 1e6:>11.0f}µs"
        )
    shutil.rmtree(store, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-trackers", action="store_true")
    parser.add_argument(
        "--spare",
        action="store_true",
        help="WORKBENCH_SPARE_RUN=1: the first run starts a spare demo (gradio imported, a model process with"
        " torch and transformers imported), the later runs are served by the spare the run before them started"
        " (each waits until it listens)",
    )
    parser.add_argument(
        "--model", default="embedded", help="the demo's model (a folder: for a machine without the embedded package)"
    )
    args = parser.parse_args()
    if not args.skip_demo:
        print(f"workbench demo {args.model}: start -> listening, start -> first answer (goal < 5 s)")
        print(f"  this machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (others' work slows it)")
        totals, rows = [], []
        spare_folder = None
        from workbench.core.demo import spare

        os.environ[spare.SPARE_ENV] = "1" if args.spare else "0"  # spares are on by default: off unless --spare
        if args.spare:
            os.environ["WORKBENCH_RUNS_DIR"] = tempfile.mkdtemp(prefix="wb-demo-spare-")
            spare_folder = spare.spare_folder()
        for repeat in range(args.repeats):
            if spare_folder is not None and repeat > 0:  # warm: the spare the last run started is listening
                deadline = time.perf_counter() + 120
                while not spare.waiting(spare_folder) and time.perf_counter() < deadline:
                    time.sleep(0.2)
            busy = cpu_seconds()
            listening, answered, answer, steps = time_first_request(model=args.model)
            busy = cpu_seconds() - busy
            totals.append(answered)
            total = steps.pop("total", (listening, float("nan")))
            steps["announce"] = (listening - total[0], float("nan"))  # the URL line reaching the benchmark
            steps["first answer"] = (answered - listening, float("nan"))  # the request, through Gradio's API
            steps["total"] = total
            rows.append(steps)
            print(
                f"  run {repeat + 1}: listening {listening:.2f} s, first answer {answered:.2f} s  ({answer['label']});"
                f" machine CPU busy {busy / answered / (os.cpu_count() or 1) * 100:.0f}%"
            )
        if spare_folder is not None:
            time.sleep(2)  # the last demo may have been stopped while it started its spare
            spare.stop_spares(spare_folder)
            warm = totals[1:] or totals
            print(f"  cold (no spare yet) {totals[0]:.2f} s; with a spare: median {statistics.median(warm):.2f} s")
        print(f"  best {min(totals):.2f} s, median {statistics.median(totals):.2f} s", flush=True)
        # With --spare: the runs a spare served (their steps differ from the first run's).
        table = rows[1:] if spare_folder is not None and len(rows) > 1 else rows
        which = "the runs with a spare" if table is not rows else "the runs"
        print(
            f"  where the time goes, median of {which} (the demo's own --timings; cpu: its CPU seconds, all threads):"
        )
        names = list(dict.fromkeys(name for row in table for name in row))
        width = max(20, *(len(name) for name in names))
        for name in names:
            walls = [row[name][0] for row in table if name in row]
            cpus = [row[name][1] for row in table if name in row]
            cpu = statistics.median(cpus)
            cpu_part = "" if cpu != cpu else f"   cpu {cpu:6.2f} s"
            print(f"    {name:<{width}} {statistics.median(walls):6.2f} s" + cpu_part)
    if not args.skip_trackers:
        tracker_costs()


if __name__ == "__main__":
    main()
