"""Keystroke-to-screen latency of the Tokenizer pane, p50/p95, at 200, 2,000 and 20,000 characters.

Runs the real app headless (`make_app`), with the embedded WordPiece tokenizer loaded, and types
one character at a time at the end of a text of each size. For every key it records:

- view:   key sent -> the pane has re-tokenized and rebuilt its token view (our code's cost);
- screen: key sent -> the first compositor frame after that, rendered to terminal output
          (what a user sees; includes Textual's frame pacing, at most one 1/TEXTUAL_FPS interval).
- ui cpu: CPU time the UI thread spent over that same interval (key sent -> frame ready): the
          part of "screen" that does not depend on what else the machine is running.
- frames: frames painted from the key to that frame (1: the echo and the tokens came together).

Frames are rendered to escape sequences exactly as for a terminal, then discarded.

    /work/venv/bin/python benchmarks/tokenizer_latency.py [--keys 60] [--sizes 200,2000,20000] [--repeats 1]

Each size runs in a fresh interpreter (one app, as a user would run it): in one process, the
garbage of the earlier apps made the later sizes pay for full collections they would never see.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WORDS = (
    "the model sees token ids offsets attention masks while tokenizers split naïve café words into"
    " pieces, punctuation! numbers 2026 and rare ☃ symbols"
).split()


def sample_text(chars: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    words: list[str] = []
    length = 0
    while length < chars:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    text = " ".join(words)[:chars]
    # Lines of ~100 characters, like prose pasted from a document.
    return "\n".join(text[i : i + 100] for i in range(0, len(text), 100))[:chars]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def measure(size: int, keys: int) -> tuple[list[float], list[float]]:
    from textual import events
    from textual._compositor import CompositorUpdate

    from workbench.ui.app import make_app

    app = make_app(probe_hub_on_start=False)
    frames: list[tuple[float, float]] = []  # (wall clock, UI thread CPU time) when each frame was ready
    original_display = app._display

    def display(screen, renderable):
        # Headless apps skip rendering: do the terminal's work here, then note when the frame was ready.
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(app.console)
            frames.append((time.perf_counter(), time.thread_time()))
        return original_display(screen, renderable)

    app._display = display
    view_latency: list[float] = []
    screen_latency: list[float] = []
    cpu_per_key: list[float] = []
    frames_per_key: list[int] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        for _ in range(6):
            await app.workers.wait_for_complete()
            await pilot.pause()
        pane = app.screen.query_one("#tokenizer-pane")
        if pane.loaded is None:
            raise SystemExit("the tokenizer did not load")
        pane.show_text(sample_text(size), None)
        await app.workers.wait_for_complete()
        await pilot.pause()
        editor = pane.query_one("#tok-text")
        editor.focus()
        editor.move_cursor(editor.document.end)
        await pilot.pause(0.2)

        rendered_at: list[tuple[int, float]] = []
        original_show = pane._show_result

        def show_result(result, generation):
            original_show(result, generation)
            rendered_at.append((generation, time.perf_counter()))

        pane._show_result = show_result
        for index in range(keys + 5):
            char = "abcdefghij klmnopqrstuvwxyz"[index % 27]
            key = events.Key("space" if char == " " else char, char)
            key.set_sender(app)
            wanted = pane.generation + 1
            start, start_cpu = time.perf_counter(), time.thread_time()
            # The key goes in as the terminal driver sends it. (Pilot.press then walks every widget
            # of the screen, ~400 callbacks on the same event loop, racing the frame it measures.)
            app._driver.send_message(key)
            deadline = start + 5
            frame = shown = None
            while frame is None and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
                shown = next((at for generation, at in rendered_at if generation >= wanted), None)
                frame = next((at for at in frames if shown is not None and at[0] >= shown), None)
            await asyncio.sleep(0.05)  # a typist's gap
            painted = sum(1 for at in frames if frame is not None and start <= at[0] <= frame[0])
            rendered_at.clear()
            frames.clear()
            if index < 5 or shown is None or frame is None:
                continue  # warm-up keys
            view_latency.append((shown - start) * 1000)
            screen_latency.append((frame[0] - start) * 1000)
            cpu_per_key.append((frame[1] - start_cpu) * 1000)
            frames_per_key.append(painted)
    return view_latency, screen_latency, cpu_per_key, frames_per_key


def measure_in_fresh_process(size: int, keys: int) -> dict[str, list]:
    """One app per size, in its own interpreter: what a user runs, with no garbage from earlier apps."""
    command = [sys.executable, __file__, "--one-size", str(size), "--keys", str(keys)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"measuring {size:,} characters failed:\n{completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=60, help="keystrokes measured per size and run")
    parser.add_argument("--sizes", default="200,2000,20000")
    parser.add_argument("--repeats", type=int, default=1, help="fresh runs per size; their keystrokes are pooled")
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)  # internal: measure one size, print JSON
    args = parser.parse_args()
    if args.one_size is not None:
        view, screen, cpu, frames = asyncio.run(measure(args.one_size, args.keys))
        print(json.dumps({"view": view, "screen": screen, "cpu": cpu, "frames": frames}))
        return 0
    rows = []
    load_before = load_average()
    for size in (int(value) for value in args.sizes.split(",")):
        pooled: dict[str, list] = {"view": [], "screen": [], "cpu": [], "frames": []}
        for _ in range(args.repeats):
            for name, values in measure_in_fresh_process(size, args.keys).items():
                pooled[name] += values
        rows.append((size, len(pooled["view"]), pooled["view"], pooled["screen"], pooled["cpu"], pooled["frames"]))
    print(
        f"Tokenizer pane keystroke latency (ms), {os.cpu_count()} CPUs, load average {load_before:.1f} before,"
        f" {load_average():.1f} after, TEXTUAL_FPS={os.environ.get('TEXTUAL_FPS', '60')},"
        " one fresh app per size and run"
    )
    print(
        f"{'chars':>7} {'keys':>5} | {'view p50':>9} {'view p95':>9} |"
        f" {'screen p50':>10} {'screen p95':>10} {'screen max':>10}"
        f" | {'ui cpu p50':>10} {'ui cpu p95':>10} | {'frames':>6}"
    )
    for size, count, view, screen, cpu, frames in rows:
        print(
            f"{size:>7,} {count:>5} | {statistics.median(view):>9.1f} {percentile(view, 95):>9.1f} |"
            f" {statistics.median(screen):>10.1f} {percentile(screen, 95):>10.1f} {max(screen):>10.1f} |"
            f" {statistics.median(cpu):>10.1f} {percentile(cpu, 95):>10.1f} | {statistics.mean(frames):>6.2f}"
        )
    print("goal: screen p95 < 16 ms at 2,000 characters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
