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

    /work/venv/bin/python benchmarks/tokenizer_latency.py [--keys 60] [--sizes 200,2000,20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
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
            key = "abcdefghij klmnopqrstuvwxyz"[index % 27].replace(" ", "space")
            wanted = pane.generation + 1
            start, start_cpu = time.perf_counter(), time.thread_time()
            await pilot.press(key)
            deadline = time.perf_counter() + 5
            while not any(generation >= wanted for generation, _ in rendered_at) and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            shown = next((at for generation, at in rendered_at if generation >= wanted), None)
            await pilot.pause(0.05)  # a typist's gap; lets the frame after the update happen
            frame = next((at for at in frames if shown is not None and at[0] >= shown), None)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=60, help="keystrokes measured per size")
    parser.add_argument("--sizes", default="200,2000,20000")
    args = parser.parse_args()
    rows = []
    for size in (int(value) for value in args.sizes.split(",")):
        view, screen, cpu, frames = asyncio.run(measure(size, args.keys))
        rows.append((size, len(view), view, screen, cpu, frames))
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"Tokenizer pane keystroke latency (ms), {os.cpu_count()} CPUs, load average {load:.1f}, TEXTUAL_FPS={os.environ.get('TEXTUAL_FPS', '60')}")
    print(
        f"{'chars':>7} {'keys':>5} | {'view p50':>9} {'view p95':>9} | {'screen p50':>10} {'screen p95':>10} {'screen max':>10}"
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
