"""Theme files: TOML documents whose keys follow `textual.theme.Theme`.

Format (see themes/workbench-dusk.toml)::

    name = "my-theme"          # required
    primary = "#F59E0B"        # required
    dark = true
    secondary/accent/warning/error/success/foreground/background/surface/panel = "#RRGGBB"
    [variables]                # workbench colours (loss-line, gpu-hot, ...) and Textual CSS variables
    loss-line = "#F59E0B"
    token-a = "#2F4858"        # Tokenizer pane: token chips cycle through token-a ... token-f
    token-special = "#E0B84F"  # [CLS], [SEP] ...; token-unknown: [UNK]
    head-new = "#FDE68A"       # Models pane head report: head-kept, head-new, head-unused, head-error
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import tomllib
from textual.color import Color, ColorParseError
from textual.theme import Theme

# Workbench's own theme variables and their defaults (used when a theme omits them).
WORKBENCH_VARIABLES = {
    "loss-line": "#F59E0B",
    "loss-smooth": "#FDE68A",
    "gpu-hot": "#EF4444",
    "gpu-cool": "#38BDF8",
}

# The Tokenizer pane's colours (workbench/ui/tokenizer/palette.py). Not defaulted here: a theme
# without them gets the built-in dark or light palette, which has more than one default colour.
TOKEN_CHIP_VARIABLES = ("token-a", "token-b", "token-c", "token-d", "token-e", "token-f")
TOKEN_VARIABLES = (*TOKEN_CHIP_VARIABLES, "token-special", "token-unknown")

# The Models pane's head report: weights kept from the checkpoint, new (random) weights,
# unused checkpoint weights, and errors. Defaults are Rich styles (the terminal's ANSI colours).
HEAD_VARIABLES = {
    "head-kept": "green",
    "head-new": "yellow",
    "head-unused": "dim",
    "head-error": "red",
}


def is_colour(value: object) -> bool:
    try:
        Color.parse(str(value).strip())
    except ColorParseError:
        return False
    return True


def head_style(variables: Mapping[str, str], name: str) -> str:
    """A head-report colour from the theme's variables, or its default style."""
    value = variables.get(name)
    return value.strip() if value is not None and is_colour(value) else HEAD_VARIABLES[name]


_COLOR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)


@dataclass
class ThemeLoadProblem:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"Theme file {self.path.name} was skipped: {self.reason}"


def parse_theme_file(path: Path) -> Theme:
    """Parse one theme file; raises ValueError with a readable reason."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"not valid TOML ({error})") from None
    unknown = set(data) - set(_COLOR_KEYS) - {"name", "dark", "variables", "luminosity_spread", "text_alpha"}
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise ValueError("missing 'name'")
    if "primary" not in data:
        raise ValueError("missing 'primary' colour")
    colors = {}
    for key in _COLOR_KEYS:
        if key in data:
            try:
                Color.parse(data[key])
            except (ColorParseError, TypeError):
                raise ValueError(f"{key} = {data[key]!r} is not a colour") from None
            colors[key] = data[key]
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ValueError("[variables] must be a table")
    for key, value in variables.items():
        if (key in TOKEN_VARIABLES or key in HEAD_VARIABLES) and not is_colour(value):
            raise ValueError(f"variables.{key} = {value!r} is not a colour")
    return Theme(
        name=data["name"].strip(),
        dark=bool(data.get("dark", True)),
        variables={**WORKBENCH_VARIABLES, **{str(k): str(v) for k, v in variables.items()}},
        **colors,
    )


def load_theme_folder(folder: Path) -> tuple[list[Theme], list[ThemeLoadProblem]]:
    themes: list[Theme] = []
    problems: list[ThemeLoadProblem] = []
    if not folder.is_dir():
        return themes, problems
    for path in sorted(folder.glob("*.toml")):
        try:
            themes.append(parse_theme_file(path))
        except (ValueError, OSError) as error:
            problems.append(ThemeLoadProblem(path, str(error)))
    return themes, problems
