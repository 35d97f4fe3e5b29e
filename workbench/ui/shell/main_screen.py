"""The main screen: one tab per pane, each pane built the first time it is needed.

Only the first pane is composed at start, so the app is ready for keys sooner. The other panes
(and their modules) are built when their tab is first shown, when another pane routes work to
them, when the palette or the help screen needs their commands and keys, or, one at a time,
once the user has left the keyboard alone for a moment after start.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from time import monotonic

from textual import work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, TabbedContent, TabPane, TextArea

from workbench.ui.shell.compositor import covering_compositor
from workbench.ui.shell.footer import WorkbenchFooter
from workbench.ui.shell.gc_pauses import freeze_long_lived_objects
from workbench.ui.shell.header import WorkbenchHeader

# (pane id, title, "module:Class"); the order is the tab order and the number keys.
PANES = [
    ("models", "Models", "workbench.ui.models.pane:ModelsPane"),
    ("tokenizer", "Tokenizer", "workbench.ui.tokenizer.pane:TokenizerPane"),
    ("datasets", "Datasets", "workbench.ui.data.pane:DatasetsPane"),
    ("training", "Training", "workbench.ui.training.pane:TrainingPane"),
]
PANE_IDS = [pane_id for pane_id, _, _ in PANES]
PANE_CLASS = "workbench-pane"  # every pane carries it: app.tcss styles a focused pane with it
TEXT_FIELDS = (Input, TextArea)  # widgets that take printable keys: number keys type into them


def pane_class(pane_id: str) -> type[Widget]:
    target = next(target for known_id, _, target in PANES if known_id == pane_id)
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


async def mounted(widget: Widget) -> None:
    """Wait until `widget` and all its children are mounted.

    Textual has no public awaitable for a widget composed by its parent (only `mount()`'s
    AwaitMount, for widgets mounted later), so this waits on MessagePump's private
    `_mounted_event` where it exists, and otherwise polls the public `is_mounted`."""
    if widget.is_mounted:
        return
    event = getattr(widget, "_mounted_event", None)
    if isinstance(event, asyncio.Event):
        await event.wait()
        return
    while not widget.is_mounted:
        await asyncio.sleep(0.01)


def prebuild_delay() -> float | None:
    """Seconds after the first paint before idle prebuilding starts; None when switched off
    (WORKBENCH_PREBUILD_AFTER=off: the test suite does, so that no app exits mid-build)."""
    value = os.environ.get("WORKBENCH_PREBUILD_AFTER", "").strip().lower()
    if value in ("off", "no", "0"):
        return None
    try:
        return float(value) if value else MainScreen.PREBUILD_AFTER
    except ValueError:
        return MainScreen.PREBUILD_AFTER


class MainScreen(Screen):
    # Building a pane holds the event loop for a few hundred ms: do it only while keys are quiet.
    PREBUILD_AFTER = 1.5  # seconds after the first paint
    PREBUILD_QUIET = 0.75  # seconds without a key or click before each build
    PREBUILD_GAP = 0.3  # seconds between two builds
    AUTO_FOCUS = None  # focus goes to the shown pane (see focus_pane), not to the first focusable widget

    BINDINGS = [
        # Priority: a text field sees escape first otherwise (and some panes bind escape themselves).
        Binding(
            "escape",
            "leave_field",
            "Leave field",
            show=False,
            priority=True,
            id="app.leave_field",
            tooltip="Leave the text field: keys (1-4, the pane's keys) act again",
        ),
    ]

    def __init__(self, first_pane: str = "models", pane_options: dict[str, dict] | None = None) -> None:
        """`pane_options`: keyword arguments for a pane's constructor, by pane id (state the app
        pushes down, e.g. the Training pane's runs folder), so panes need not read it from the app."""
        super().__init__()
        self.pane_options = pane_options or {}
        # Replaces Screen's private compositor: covering_compositor() is the guarded part (it gives
        # Textual's own compositor back when Textual's private methods differ from those it knows).
        self._compositor = covering_compositor()  # redraws only what shows through an update
        self.first_pane = first_pane if first_pane in PANE_IDS else PANE_IDS[0]
        self._imported = False
        # Built panes by id: a DOM query per lookup walks thousands of widgets (~5 ms each once
        # every pane is built), and the prebuild timer looks them all up while keys are typed.
        self._panes: dict[str, Widget] = {}

    def compose(self) -> ComposeResult:
        yield WorkbenchHeader()
        with TabbedContent(id="panes", initial=self.first_pane):
            for pane_id, title, _ in PANES:
                with TabPane(title, id=pane_id):
                    if pane_id == self.first_pane:
                        yield self._new_pane(pane_id)
        yield WorkbenchFooter()

    @work(thread=True, exclusive=True, group="pane-imports", exit_on_error=False)
    def import_other_panes(self) -> None:
        """Import the other panes' modules off the event loop (at the first quiet moment after
        start, with nothing else running), so their first show is quicker."""
        for pane_id in PANE_IDS:
            pane_class(pane_id)

    def start_prebuilding(self) -> None:
        delay = prebuild_delay()
        if delay is not None:
            self.set_timer(delay, self._prebuild_next)

    def _prebuild_next(self) -> None:
        missing = [pane_id for pane_id in PANE_IDS if self.built_pane(pane_id) is None]
        if not missing or not self.is_attached:
            return
        quiet_for = monotonic() - getattr(self.app, "last_input_at", 0.0)
        if quiet_for < self.PREBUILD_QUIET:
            self.set_timer(self.PREBUILD_QUIET - quiet_for + 0.05, self._prebuild_next)
            return
        if self._app_busy():
            self.set_timer(self.PREBUILD_QUIET, self._prebuild_next)
            return
        if not self._imported:
            self._imported = True
            self.import_other_panes()  # the first quiet moment: import now, build from the next one
            self.set_timer(self.PREBUILD_GAP, self._prebuild_next)
            return
        self.run_worker(self.pane_ready(missing[0]), group="prebuild")
        self.set_timer(self.PREBUILD_GAP, self._prebuild_next)

    def _app_busy(self) -> bool:
        """Background work is running (a history loading, a run followed live, a model loading):
        its messages would wait behind a pane being built, so the build waits instead."""
        return any(
            worker.is_running and worker.group not in ("prebuild", "pane-imports") for worker in self.app.workers
        )

    # -- building panes ----------------------------------------------------------
    def built_pane(self, pane_id: str) -> Widget | None:
        return self._panes.get(pane_id)

    def ensure_pane(self, pane_id: str) -> Widget:
        """The pane, mounting it now if it was never shown (its children arrive on the next idle)."""
        pane = self.built_pane(pane_id)
        if pane is None:
            pane = self._new_pane(pane_id)
            self.query_one(f"TabPane#{pane_id}", TabPane).mount(pane)
        return pane

    def _new_pane(self, pane_id: str) -> Widget:
        pane = self._panes[pane_id] = pane_class(pane_id)(id=f"{pane_id}-pane", **self.pane_options.get(pane_id, {}))
        pane.add_class(PANE_CLASS)
        pane.can_focus = True  # focus can rest on the pane itself: its keys work, number keys switch panes
        return pane

    async def pane_ready(self, pane_id: str) -> Widget:
        """The pane, built and mounted with all its children."""
        pane = self.ensure_pane(pane_id)
        if not pane.is_mounted:
            await mounted(pane)
            freeze_long_lived_objects()
        return pane

    async def all_panes_ready(self) -> list[Widget]:
        return [await self.pane_ready(pane_id) for pane_id in PANE_IDS]

    async def builds_settled(self) -> None:
        """Wait for panes being built to finish (quitting mid-build would leave half-made widgets)."""
        for pane_id in PANE_IDS:
            pane = self.built_pane(pane_id)
            if pane is not None:
                await mounted(pane)

    async def open_pane(self, pane_id: str) -> Widget:
        """Show a pane once it is built with all its children, so the next key reaches it."""
        pane = await self.pane_ready(pane_id)
        self.show_pane(pane_id)
        return pane

    def show_pane(self, pane_id: str) -> None:
        pane = self.ensure_pane(pane_id)
        self.query_one("#panes", TabbedContent).active = pane_id
        if pane.is_mounted:
            self.focus_pane(pane_id)  # now, so the next key (and a test's next step) finds it there

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        # Every way of showing a pane ends here (keys, a click on a tab, the palette, routed work).
        if event.tabbed_content.id == "panes" and event.pane.id in PANE_IDS:
            self.ensure_pane(event.pane.id)
            self.call_after_refresh(self.focus_pane, event.pane.id)

    # -- focus ---------------------------------------------------------------------
    @property
    def active_pane_id(self) -> str:
        return self.query_one("#panes", TabbedContent).active or self.first_pane

    def focus_pane(self, pane_id: str) -> None:
        """Move focus into the shown pane (unless it is there already, or the pane put it somewhere
        itself), so the pane's keys work at once and the previous pane's widgets get no keys."""
        pane = self.built_pane(pane_id)
        if pane is None or not pane.is_attached or pane_id != self.active_pane_id or self.app.screen is not self:
            return
        focused = self.focused
        if focused is not None and (focused is pane or pane in focused.ancestors):
            return
        pane.focus(scroll_visible=False)

    def action_leave_field(self) -> None:
        """Escape in a text field: focus goes to its pane (nothing typed); elsewhere escape does what it did."""
        focused = self.focused
        pane = self.built_pane(self.active_pane_id)
        if not isinstance(focused, TEXT_FIELDS) or pane is None or pane not in focused.ancestors:
            raise SkipAction()
        pane.focus(scroll_visible=False)
