"""How long the Models pane takes: summary and heads without weights vs loading for real.

Run: python benchmarks/models.py [CHECKPOINT_FOLDER]   (default: the embedded encoder)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    start = time.perf_counter()
    from workbench.core.embedded import embedded_model_path
    from workbench.core.models.inspect import check_architecture, inspect_checkpoint
    from workbench.core.models.loading import LoadOptions, analyse_head, analyse_heads, load_model

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else embedded_model_path()
    rows = []
    info, seconds = timed(inspect_checkpoint, folder, check=False)
    rows.append(("summary: config.json + safetensors header", seconds))
    _, seconds = timed(check_architecture, info)
    rows.append(("import transformers, check the architecture", seconds))
    reports, seconds = timed(analyse_heads, info)
    rows.append((f"all {len(reports)} heads on the meta device (first, cold)", seconds))
    reports, seconds = timed(analyse_heads, info)
    rows.append((f"all {len(reports)} heads on the meta device (warm)", seconds))
    for report in reports:
        _, meta = timed(analyse_head, info, report.head)
        _, real = timed(load_model, info, LoadOptions(report.head))
        rows.append((f"{report.head.key}: meta compare / real load", meta, real))
    print(f"checkpoint: {info.name} ({info.weights.size_bytes / 2**20:.1f} MiB)")
    print(f"{'step':<52} {'seconds':>9} {'real load':>10}")
    for row in rows:
        extra = f" {row[2]:>10.3f}" if len(row) > 2 else ""
        print(f"{row[0]:<52} {row[1]:>9.3f}{extra}")
    print(f"{'total':<52} {time.perf_counter() - start:>9.3f}")


if __name__ == "__main__":
    main()
