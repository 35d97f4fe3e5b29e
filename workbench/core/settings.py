"""User settings: a TOML file in the XDG config dir, overridden by environment variables.

Unknown keys are kept in the file (so nothing a user wrote is lost) and reported by name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import tomli_w
import tomllib

from workbench.core import paths

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

    @property
    def runs_path(self) -> Path:
        return Path(self.runs_dir).expanduser() if self.runs_dir else paths.default_runs_dir()


_KEYS = {f.name: f for f in fields(Settings) if f.name not in ("problems", "unknown")}


def _coerce(key: str, value: object) -> object:
    default = _KEYS[key].default
    if isinstance(default, float):
        return float(value)  # type: ignore[arg-type]
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
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raw = {}
            problems.append(f"{path}: not valid TOML ({error}); using defaults")
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
    return Settings(**values, problems=tuple(problems), unknown=unknown)


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
    updated = replace(on_disk, **{key: value})
    save_settings(updated, path)
    return updated
