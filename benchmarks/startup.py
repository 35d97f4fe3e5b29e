"""Startup benchmark: time from process start until the app is ready for keys, and idle RSS.

Runs `python -m workbench` in a pseudo-terminal N times; the app writes a report when
Textual's Ready event fires and exits. Goal: ready in <= 1.0 s, RSS < 150 MB, torch not imported.

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
        return json.loads(report.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    one_start()  # warm the file cache
    results = [one_start() for _ in range(args.runs)]
    ready = [result["ready_s"] for result in results]
    rss = [result["rss_mb"] for result in results]
    heavy = sorted({name for result in results for name in result["heavy_imports"]})
    print(f"{'metric':<28}{'median':>10}{'max':>10}{'goal':>10}")
    print(f"{'ready for keys (s)':<28}{statistics.median(ready):>10.3f}{max(ready):>10.3f}{'<= 1.0':>10}")
    print(f"{'idle RSS (MB)':<28}{statistics.median(rss):>10.1f}{max(rss):>10.1f}{'< 150':>10}")
    print(f"{'heavy modules imported':<28}{', '.join(heavy) or 'none':>30}")


if __name__ == "__main__":
    main()
