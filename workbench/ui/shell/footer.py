"""A footer that rebuilds its keys only when the keys it shows change.

Textual's Footer recomposes on every focus change, which restyles a dozen key widgets
(about 10 ms idle, near 100 ms on a busy 2-core machine). Moving focus inside a pane
usually leaves the shown keys as they were, so that work can be skipped.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class WorkbenchFooter(Footer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown_keys: tuple | None = None

    def shown_keys(self) -> tuple:
        """What compose would draw: every shown binding's key, label, action, state and tooltip."""
        keys = []
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show or binding.key == self.app.COMMAND_PALETTE_BINDING:
                group = binding.group.description if binding.group is not None else None
                keys.append((binding.key, binding.description, binding.action, enabled, tooltip, group))
        return (self.compact, self.show_command_palette, tuple(keys))

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and self._bindings_ready:
            if self.shown_keys() == self._shown_keys:
                return
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        if self.is_attached:
            self._shown_keys = self.shown_keys()
        await super().recompose()
