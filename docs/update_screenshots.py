"""Copy the README's screenshots from the snapshot tests, which render the real app.

python docs/update_screenshots.py      (after `pytest --snapshot-update` changed them)
"""

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = {
    "shell.svg": "tests/shell/__snapshots__/test_shell_snapshots/test_shell_in_theme[workbench-dusk].svg",
    "models-playground.svg": "tests/models/__snapshots__/test_models_snapshots/test_playground_output[class-bars].svg",
    "tokenizer.svg": "tests/tokenizer/__snapshots__/test_pane_snapshots/test_single_text.svg",
    "tokenizer-windows.svg": (
        "tests/tokenizer/__snapshots__/test_pane_snapshots/test_truncated_with_overflow_windows.svg"
    ),
    "datasets.svg": "tests/data/__snapshots__/test_datasets_snapshots/test_browser.svg",
    "datasets-statistics.svg": "tests/data/__snapshots__/test_datasets_snapshots/test_statistics.svg",
    "training-monitor.svg": "tests/training/pane/__snapshots__/test_monitor_snapshots/test_running_run.svg",
    "training-gpus.svg": "tests/training/pane/__snapshots__/test_monitor_snapshots/test_gpu_run_two_gpus.svg",
    "push.svg": "tests/hub/__snapshots__/test_push_snapshots/test_push_dialog_snapshot[ready_typed_token_masked].svg",
}

for name, source in SCREENSHOTS.items():
    shutil.copyfile(ROOT / source, ROOT / "docs" / "screenshots" / name)
    print(f"docs/screenshots/{name}")
