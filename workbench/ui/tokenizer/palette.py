"""The Tokenizer pane's colours, taken from the theme so a user theme can recolour them.

Theme variables (all optional, in a theme file's [variables] table):
`token-a` … `token-f`: the backgrounds token chips cycle through (a theme may give only a few:
the cycle is the ones given, from `token-a` on); `token-special`: the background of [CLS],
[SEP] and other special tokens; `token-unknown`: the background of unknown tokens. A theme
that gives none gets the built-in dark or light palette.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

from workbench.ui.themes import TOKEN_CHIP_VARIABLES, is_colour


@dataclass(frozen=True)
class Palette:
    token_backgrounds: tuple[str, ...]
    text: str
    special: str
    unknown: str
    padding: str
    dropped: str
    overlap: str
    muted: str
    header: str
    error: str
    loss: dict

    def token(self, index: int) -> str:
        return self.token_styles[index % len(self.token_styles)]

    @cached_property
    def token_styles(self) -> tuple[str, ...]:
        return tuple(f"{self.text} on {background}" for background in self.token_backgrounds)


DARK = Palette(
    token_backgrounds=("#2f4858", "#4f3b5c", "#2e5339", "#5c4330", "#3a4a6b", "#5a3a45"),
    text="#e8e8e8",
    special="bold #1d1d1d on #e0b84f",
    unknown="bold #ffffff on #b3261e",
    padding="italic #8a8a8a on #2a2a2a",
    dropped="strike #8a8a8a",
    overlap="underline",
    muted="#9a9a9a",
    header="bold #8fbcd4",
    error="bold #ff6b6b",
    loss={
        "case": "#1d1d1d on #8fbcd4",
        "accents": "#1d1d1d on #c3a6e0",
        "unknown": "bold #ffffff on #b3261e",
        "whitespace": "on #5c4330",
        "changed": "bold #1d1d1d on #e0b84f",
    },
)
LIGHT = Palette(
    token_backgrounds=("#cfe8f3", "#ead7f2", "#d4edda", "#f6e0c8", "#dde3f5", "#f5d5dc"),
    text="#1a1a1a",
    special="bold #1a1a1a on #f2d06b",
    unknown="bold #ffffff on #c62828",
    padding="italic #777777 on #eeeeee",
    dropped="strike #999999",
    overlap="underline",
    muted="#666666",
    header="bold #1f5f8b",
    error="bold #c62828",
    loss={
        "case": "#1a1a1a on #b7dcf0",
        "accents": "#1a1a1a on #dcc7f0",
        "unknown": "bold #ffffff on #c62828",
        "whitespace": "on #f6d7b0",
        "changed": "bold #1a1a1a on #f2d06b",
    },
)


def palette_for(dark: bool, variables: Mapping[str, str] | None = None) -> Palette:
    """The built-in palette for a dark or light theme, with the theme's token colours over it."""
    wanted = tuple(sorted((key, value) for key, value in (variables or {}).items() if key.startswith("token-")))
    return _palette(dark, wanted)


@lru_cache(maxsize=16)
def _palette(dark: bool, variables: tuple[tuple[str, str], ...]) -> Palette:
    base = DARK if dark else LIGHT
    given = {key: value.strip() for key, value in variables if is_colour(value)}
    chips: list[str] = []
    for name in TOKEN_CHIP_VARIABLES:
        if name not in given:
            break
        chips.append(given[name])
    changes: dict = {}
    if chips:
        changes["token_backgrounds"] = tuple(chips)
    if "token-special" in given:
        changes["special"] = f"{_foreground(base.special)} on {given['token-special']}"
    if "token-unknown" in given:
        changes["unknown"] = f"{_foreground(base.unknown)} on {given['token-unknown']}"
        changes["loss"] = {**base.loss, "unknown": changes["unknown"]}
    return replace(base, **changes) if changes else base


def _foreground(style: str) -> str:
    return style.split(" on ", 1)[0]
