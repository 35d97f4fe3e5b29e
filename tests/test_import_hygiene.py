"""The core and the training engine never import textual; the TUI paints before torch."""

from __future__ import annotations

import json
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import workbench

ROOT = Path(workbench.__file__).resolve().parents[1]


def _modules_of(package: str) -> list[str]:
    folder = ROOT / package.replace(".", "/")
    names = [package]
    for info in pkgutil.walk_packages([str(folder)], prefix=f"{package}."):
        names.append(info.name)
    return names


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_core_and_training_never_import_textual():
    modules = _modules_of("workbench.core") + _modules_of("workbench.training")
    assert "workbench.core.settings" in modules
    loaded = _loaded_after_import(modules)
    ui_modules = sorted(name for name in loaded if name == "textual" or name.startswith(("textual.", "workbench.ui")))
    assert ui_modules == []


def test_ui_modules_import_without_heavy_libraries():
    """Importing every UI module must not pull in torch, transformers, datasets or evaluate."""
    modules = _modules_of("workbench.ui") + ["workbench.cli"]
    loaded = _loaded_after_import(modules)
    heavy = sorted(
        name for name in loaded if name.split(".")[0] in {"torch", "transformers", "datasets", "evaluate", "accelerate"}
    )
    assert heavy == []


def test_import_linter_contracts_hold():
    """The layers (cli/commands > ui > training > core) and the independent ui feature folders, as
    configured in pyproject.toml's [tool.importlinter]; lint-imports comes with the dev extra."""
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "broken" in result.stdout and " 0 broken" in result.stdout
