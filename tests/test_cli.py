from __future__ import annotations

import subprocess
import sys

from workbench.cli import main
from workbench.core import paths


def test_locate_prints_paths(capsys):
    assert main(["locate", "config"]) == 0
    assert capsys.readouterr().out.strip() == str(paths.config_file())
    assert main(["locate", "runs"]) == 0
    assert capsys.readouterr().out.strip() == str(paths.default_runs_dir())


def test_python_dash_m_works():
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("workbench ")
