"""The Errors view on 10,000 validation examples: seconds from opening it to its tables filled.

Goal (issue 20): ready in under 1 s. Writes a predictions file as the training loop does
(`core.runs.predictions.write`: classification, 3 classes, or token classification, IOB2 tags),
opens the app headless at 140x46, pushes the view and waits until its worker's data is shown.
The first opening in a process also pays for importing pyarrow and pandas (and seqeval for token
classification) in the worker; the later ones are what a user sees on each `x` after that, so both
are printed.

    python benchmarks/errors_view_speed.py [--rows 10000] [--repeats 3] [--kind classification|token]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def classification_records(rows: int, seed: int = 0) -> dict[str, list]:
    rng = random.Random(seed)
    labels = ["negative", "neutral", "positive"]
    gold = [rng.choice(labels) for _ in range(rows)]
    predicted = [label if rng.random() < 0.8 else rng.choice(labels) for label in gold]
    return {
        "id": list(range(rows)),
        "input": [f"example sentence number {index} with a few words" for index in range(rows)],
        "gold": gold,
        "predicted": predicted,
        "score": [rng.random() for _ in range(rows)],
        "loss": [rng.random() * 3 for _ in range(rows)],
    }


def token_records(rows: int, seed: int = 0) -> dict[str, list]:
    rng = random.Random(seed)
    kinds = ["PER", "LOC", "ORG", "MISC"]
    inputs, gold, predicted = [], [], []
    for _ in range(rows):
        words, tags = [], []
        for position in range(rng.randint(6, 20)):
            words.append(f"w{position}")
            tags.append(f"B-{rng.choice(kinds)}" if rng.random() < 0.2 else "O")
        guessed = [tag if rng.random() < 0.9 else rng.choice(["O", "B-PER", "B-LOC"]) for tag in tags]
        inputs.append(" ".join(words))
        gold.append(" ".join(tags))
        predicted.append(" ".join(guessed))
    return {
        "id": list(range(rows)),
        "input": inputs,
        "gold": gold,
        "predicted": predicted,
        "loss": [rng.random() for _ in range(rows)],
    }


async def time_openings(run_dir: Path, repeats: int) -> list[float]:
    from workbench.ui.app import make_app
    from workbench.ui.training.errors_parts import ErrorsSource
    from workbench.ui.training.errors_view import ErrorsView

    seconds = []
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(140, 46)) as pilot:
        await pilot.pause()
        for _ in range(repeats):
            view = ErrorsView(ErrorsSource(run_dir=run_dir))
            start = time.perf_counter()
            await app.push_screen(view)
            while getattr(view, "data", None) is None or view.loading:
                await asyncio.sleep(0.005)
            await pilot.pause()  # the filled tables painted
            seconds.append(time.perf_counter() - start)
            app.pop_screen()
            await pilot.pause()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kind", choices=["classification", "token"], default="classification")
    args = parser.parse_args()

    from workbench.core.runs import predictions
    from workbench.core.runs.protocol import Evaluation, EventWriter, RunStarted

    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "run"
        run_dir.mkdir()
        head = "sequence-classification" if args.kind == "classification" else "token-classification"
        records = classification_records(args.rows) if args.kind == "classification" else token_records(args.rows)
        path = predictions.write(run_dir, 100, records, keep=3)
        writer = EventWriter(run_dir / "events.jsonl")
        writer.emit(RunStarted(run_id="bench", spec={"model": {"head": head}}))
        writer.emit(
            Evaluation(step=100, epoch=1.0, metrics={"eval_loss": 0.5}, predictions=str(path.relative_to(run_dir)))
        )
        writer.close()
        seconds = asyncio.run(time_openings(run_dir, args.repeats))
    print(f"{args.kind}, {args.rows:,} examples: first opening {seconds[0]:.2f} s (imports included)")
    for index, value in enumerate(seconds[1:], start=2):
        print(f"  opening {index}: {value:.2f} s")
    later = seconds[1:] or seconds
    print(f"goal under 1 s: {'met' if max(later) < 1 else 'missed'} (later openings, max {max(later):.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
