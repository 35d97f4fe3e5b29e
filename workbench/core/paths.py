"""Where workbench keeps its config, themes and runs (XDG base directories)."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "workbench"


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home() / fallback


def config_dir() -> Path:
    override = os.environ.get("WORKBENCH_CONFIG_DIR")
    return Path(override) if override else _xdg("XDG_CONFIG_HOME", ".config") / APP_NAME


def data_dir() -> Path:
    override = os.environ.get("WORKBENCH_DATA_DIR")
    return Path(override) if override else _xdg("XDG_DATA_HOME", ".local/share") / APP_NAME


def config_file() -> Path:
    return config_dir() / "config.toml"


def user_themes_dir() -> Path:
    return config_dir() / "themes"


def default_runs_dir() -> Path:
    return data_dir() / "runs"


def bundled_themes_dir() -> Path:
    """The `themes/` folder shipped beside the package in the source tree."""
    return Path(__file__).resolve().parents[2] / "themes"
