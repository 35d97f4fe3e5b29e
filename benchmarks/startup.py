"""Startup benchmark: time from process start until the app is ready for keys, and idle RSS.

Runs `python -m workbench` in a pseudo-terminal N times; the app writes a report when
Textual's Ready event fires (the first screen is painted) and exits. Ready time is measured from
just before the process is spawned. Goal: ready in <= 1.0 s, RSS < 150 MB, torch not imported.

Panes other than the first are built when first shown, so the benchmark also times each pane's
first show by its number key (in-process, headless terminal of the same size): key press until
the pane is mounted with its children and the screen has refreshed.

    python benchmarks/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_start() -> dict:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "ready.json"
        env = dict(
            os.environ,
            WORKBENCH_REPORT_READY=str(report),
            WORKBENCH_CONFIG_DIR=str(Path(folder) / "config"),
            WORKBENCH_DATA_DIR=str(Path(folder) / "data"),
            TERM="xterm-256color",
            COLUMNS="120",
            LINES="40",
        )
        controller, terminal = pty.openpty()
        started = time.time()
        process = subprocess.Popen(
            [sys.executable, "-m", "workbench"], stdin=terminal, stdout=terminal, stderr=terminal, env=env
        )
        os.close(terminal)
        try:
            while process.poll() is None:
                try:
                    os.read(controller, 65536)  # drain the screen output
                except OSError:
                    break
            process.wait(timeout=30)
        finally:
            os.close(controller)
        result = json.loads(report.read_text())
        result["ready_s"] = result["ready_at"] - started
        return result


def first_shows(runs: int) -> dict[str, list[float]]:
    import asyncio

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from workbench.ui.app import make_app
    from workbench.ui.shell.main_screen import PANES

    async def one_session(timings: dict[str, list[float]]) -> None:
        with tempfile.TemporaryDirectory() as folder:
            os.environ["WORKBENCH_CONFIG_DIR"] = str(Path(folder) / "config")
            os.environ["WORKBENCH_DATA_DIR"] = str(Path(folder) / "data")
            app = make_app(probe_hub_on_start=False)
            async with app.run_test(size=(120, 40)) as pilot:
                await app.workers.wait_for_complete()  # the other panes' modules are imported after ready
                for number, (pane_id, _, _) in enumerate(PANES[1:], start=2):
                    started = time.perf_counter()
                    await pilot.press(str(number))
                    await app.main_screen.pane_ready(pane_id)
                    await pilot.pause()
                    timings[pane_id].append(time.perf_counter() - started)

    timings: dict[str, list[float]] = {pane_id: [] for pane_id, _, _ in PANES[1:]}
    for _ in range(runs):
        asyncio.run(one_session(timings))
    return timings


def compile_package() -> None:
    """Write the package's bytecode caches first. Python writes them on the first start, unless
    PYTHONDONTWRITEBYTECODE is set (as in some sandboxes and containers), in which case every
    start would compile every module again: a cost that installed users do not pay."""
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "workbench"), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    compile_package()
    one_start()  # warm the file cache
    results = [one_start() for _ in range(args.runs)]
    ready = [result["ready_s"] for result in results]
    rss = [result["rss_mb"] for result in results]
    heavy = sorted({name for result in results for name in result["heavy_imports"]})
    print(f"{'metric':<28}{'median':>10}{'max':>10}{'goal':>10}")
    print(f"{'ready for keys (s)':<28}{statistics.median(ready):>10.3f}{max(ready):>10.3f}{'<= 1.0':>10}")
    print(f"{'idle RSS (MB)':<28}{statistics.median(rss):>10.1f}{max(rss):>10.1f}{'< 150':>10}")
    print(f"{'heavy modules imported':<28}{', '.join(heavy) or 'none':>30}")
    print()
    print(f"{'first show of a pane (ms)':<28}{'median':>10}{'max':>10}")
    for pane_id, seconds in first_shows(max(1, args.runs // 2)).items():
        print(f"{'  ' + pane_id:<28}{statistics.median(seconds) * 1000:>10.0f}{max(seconds) * 1000:>10.0f}")


if __name__ == "__main__":
    main()
