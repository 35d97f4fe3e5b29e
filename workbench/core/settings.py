"""User settings: a TOML file in the XDG config dir, overridden by environment variables.

Unknown keys are kept in the file (so nothing a user wrote is lost) and reported by name.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import tomli_w
import tomllib

from workbench.core import paths
from workbench.core.errors import WorkbenchError

# Environment variable -> settings key.
ENV_OVERRIDES = {
    "WORKBENCH_THEME": "theme",
    "WORKBENCH_RUNS_DIR": "runs_dir",
    "WORKBENCH_DEFAULT_MODEL": "default_model",
    "WORKBENCH_HUB_PROBE_TIMEOUT": "hub_probe_timeout",
}


@dataclass(frozen=True)
class Settings:
    theme: str = "workbench-dusk"
    runs_dir: str = ""
    default_model: str = ""
    hub_endpoint: str = "https://huggingface.co"
    hub_probe_timeout: float = 1.5
    # Problems found while loading, for the UI to report; never written back.
    problems: tuple[str, ...] = field(default=(), compare=False)
    unknown: dict = field(default_factory=dict, compare=False)
    # Why the file could not be read at all ("" when it could, or when there is none): it is then never written.
    unreadable: str = field(default="", compare=False)

    @property
    def runs_path(self) -> Path:
        return Path(self.runs_dir).expanduser() if self.runs_dir else paths.default_runs_dir()


_KEYS = {f.name: f for f in fields(Settings) if f.name not in ("problems", "unknown", "unreadable")}


class SettingsFileError(WorkbenchError):
    """The settings file exists but cannot be read, so it is not overwritten."""


def _coerce(key: str, value: object) -> object:
    default = _KEYS[key].default
    if isinstance(default, float):
        if isinstance(value, bool):
            raise TypeError(f"expected a number, got {value!r}")
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number) or number <= 0:
            raise ValueError(f"expected a positive number, got {value!r}")
        return number
    if isinstance(default, str) and not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def load_settings(path: Path | None = None, environ: dict | None = None) -> Settings:
    """Read settings; never raises for bad content, reports it in `problems` instead."""
    path = path or paths.config_file()
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    values: dict = {}
    unknown: dict = {}
    unreadable = ""
    if path.exists():
        raw, unreadable = _read(path)
        if unreadable:
            problems.append(f"settings file {path} {unreadable}; using the defaults (the file is left as it is)")
        for key, value in raw.items():
            if key not in _KEYS:
                unknown[key] = value
                problems.append(f"{path}: unknown key {key!r} ignored")
                continue
            try:
                values[key] = _coerce(key, value)
            except (TypeError, ValueError) as error:
                problems.append(f"{path}: {key}: {error}; using the default")
    for variable, key in ENV_OVERRIDES.items():
        if variable in environ:
            try:
                values[key] = _coerce(key, environ[variable])
            except (TypeError, ValueError) as error:
                problems.append(f"${variable}: {error}; ignored")
    return Settings(**values, problems=tuple(problems), unknown=unknown, unreadable=unreadable)


def _read(path: Path) -> tuple[dict, str]:
    """The file's table, or ({}, why it cannot be read) in one line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return {}, f"cannot be read ({error.strerror or error})"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return {}, f"is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})"
    try:
        return tomllib.loads(text), ""
    except tomllib.TOMLDecodeError as error:
        return {}, f"is not valid TOML ({str(error).splitlines()[0]})"


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings that differ from the defaults, keeping unknown keys untouched."""
    path = path or paths.config_file()
    defaults = Settings()
    data = {key: getattr(settings, key) for key in _KEYS if getattr(settings, key) != getattr(defaults, key)}
    data.update(settings.unknown)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".toml.tmp")
    temporary.write_text(tomli_w.dumps(data), encoding="utf-8")
    temporary.replace(path)
    return path


def update_setting(key: str, value: object, path: Path | None = None) -> Settings:
    """Change one key in the file on disk (not the environment-overridden view)."""
    on_disk = load_settings(path, environ={})
    if on_disk.unreadable:
        raise SettingsFileError(
            f"{key} not saved: the settings file {path or paths.config_file()} {on_disk.unreadable}",
            hint="Fix or remove the file; it was left as it is.",
        )
    updated = replace(on_disk, **{key: value})
    save_settings(updated, path)
    return updated
