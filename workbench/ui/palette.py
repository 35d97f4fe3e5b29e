"""Namespaced command-palette commands ("pane: models", "model: load", "run: stop").

Panes contribute their own commands through `palette_commands()`, so what the palette
offers follows the state of the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class PaletteCommand:
    label: str  # "namespace: verb"
    callback: Callable[[], object]
    help: str = ""


class WorkbenchCommands(Provider):
    async def startup(self) -> None:
        # Panes are built when first needed; their commands are offered from the first search.
        main = getattr(self.app, "main_screen", None)
        if main is not None:
            await main.all_panes_ready()

    def _commands(self) -> list[PaletteCommand]:
        return list(self.app.palette_commands())  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.label, command.callback, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.label)
            if score > 0:
                yield Hit(score, matcher.highlight(command.label), command.callback, help=command.help)


def pane_switch_commands(app, panes: list[tuple[str, str]]) -> list[PaletteCommand]:
    return [
        PaletteCommand(f"pane: {title.lower()}", partial(app.action_open_pane, pane_id), f"Show the {title} pane")
        for pane_id, title in panes
    ]
