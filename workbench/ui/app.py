"""The workbench Textual app and `make_app`, the one factory used by the CLI and the tests."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from textual import events, on, work
from textual.app import App
from textual.binding import Binding, BindingsMap
from textual.reactive import reactive
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from workbench.core import paths
from workbench.core.embedded import EMBEDDED_MODEL_NAME
from workbench.core.hub.status import HubStatus, current_status, probe_hub
from workbench.core.settings import Settings, SettingsFileError, load_settings, update_setting
from workbench.ui.messages import (
    ActiveDatasetChanged,
    ActiveModelChanged,
    DatasetRowRequested,
    DemoRequested,
    HubStatusChanged,
    OpenModelRequested,
    PaneRequested,
    PushRequested,
    SendToTokenizer,
)
from workbench.ui.palette import PaletteCommand, WorkbenchCommands, pane_switch_commands
from workbench.ui.shell.demo_control import DemoControl
from workbench.ui.shell.gc_pauses import freeze_long_lived_objects
from workbench.ui.shell.header import WorkbenchHeader
from workbench.ui.shell.help_screen import HelpScreen
from workbench.ui.shell.main_screen import PANE_IDS, PANES, MainScreen
from workbench.ui.themes import load_theme_folder

FALLBACK_THEME = "workbench-dusk"


class WorkbenchApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "workbench"
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    BINDINGS = [
        # Number keys outside text fields (in a field they type); alt+number from anywhere, fields too.
        # Both keys of a pane share its binding id, so a keymap that remaps the id replaces both.
        *(
            Binding(
                str(number), f"open_pane('{pane_id}')", title, id=f"pane.{pane_id}", tooltip=f"Show the {title} pane"
            )
            for number, (pane_id, title, _) in enumerate(PANES, start=1)
        ),
        *(
            Binding(
                f"alt+{number}",
                f"open_pane('{pane_id}')",
                title,
                show=False,
                priority=True,
                id=f"pane.{pane_id}",
                tooltip=f"Show the {title} pane (also from inside a text field)",
            )
            for number, (pane_id, title, _) in enumerate(PANES, start=1)
        ),
        Binding("f1,question_mark", "help", "Help", id="app.help", tooltip="List every key"),
        Binding(
            "f2",
            "report_last_error",
            "Report",
            show=False,
            id="app.report",
            tooltip="A forum-ready report of the last error shown: versions, the error, what was done",
        ),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Quit; running trainings carry on"),
    ]

    active_model: reactive[str] = reactive(EMBEDDED_MODEL_NAME)
    # The last error a notification or a failed worker showed: what f2 reports (title, text).
    last_error: tuple[str, str] | None = None
    active_model_path: reactive[str] = reactive("")
    hub_status: reactive[str] = reactive(HubStatus.UNKNOWN.value)
    # The Datasets pane's current dataset as a plain dict (see ActiveDatasetChanged), or None.
    active_dataset: reactive[dict | None] = reactive(None)

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        config_path: Path | None = None,
        theme_dirs: list[Path] | None = None,
        probe_hub_on_start: bool = True,
        attach_run: str | None = None,
    ) -> None:
        super().__init__()
        self.config_path = config_path or paths.config_file()
        self.settings = settings or load_settings(self.config_path)
        self.theme_dirs = (
            theme_dirs if theme_dirs is not None else [paths.bundled_themes_dir(), paths.user_themes_dir()]
        )
        self.probe_hub_on_start = probe_hub_on_start
        self.attach_run = attach_run
        self._startup_problems: list[str] = list(self.settings.problems)
        self.demo = DemoControl(self)
        self._register_theme_files()
        self.theme = self._initial_theme()

    # -- themes --------------------------------------------------------------
    def get_theme_variable_defaults(self) -> dict[str, str]:
        from workbench.ui.themes import WORKBENCH_VARIABLES

        return dict(WORKBENCH_VARIABLES)

    def _register_theme_files(self) -> None:
        for folder in self.theme_dirs:
            themes, problems = load_theme_folder(folder)
            for theme in themes:
                self.register_theme(theme)
            self._startup_problems.extend(str(problem) for problem in problems)

    def _initial_theme(self) -> str:
        wanted = self.settings.theme
        if wanted in self.available_themes:
            return wanted
        fallback = FALLBACK_THEME if FALLBACK_THEME in self.available_themes else "textual-dark"
        self._startup_problems.append(f"Theme {wanted!r} is not available; using {fallback!r}")
        return fallback

    def _save_theme(self, theme: Theme) -> None:
        if theme.name == self.settings.theme:
            return
        try:
            update_setting("theme", theme.name, self.config_path)
        except OSError as error:
            self.notify(f"Could not save the theme to {self.config_path}: {error}", severity="warning")
        except SettingsFileError as error:  # an unreadable settings file is never overwritten
            self.notify(error.message, severity="warning")

    # -- lifecycle -------------------------------------------------------------
    last_input_at = 0.0  # monotonic time of the last key or click: panes are prebuilt only when quiet

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.last_input_at = time.monotonic()
        await super().on_event(event)

    def on_mount(self) -> None:
        self.push_screen(
            MainScreen(
                first_pane="training" if self.attach_run else PANE_IDS[0],
                pane_options={"training": {"runs_dir": self.settings.runs_path, "attach_run": self.attach_run}},
            )
        )
        self.theme_changed_signal.subscribe(self, self._save_theme)
        for problem in self._startup_problems:
            self.notify(problem, severity="warning", timeout=8)
        self.hub_status = current_status().value
        if self.probe_hub_on_start and current_status() is not HubStatus.OFFLINE:
            self.check_hub()
        self._sync_header()

    def on_ready(self) -> None:
        if self.main_screen is not None:
            freeze_long_lived_objects()
            self.main_screen.start_prebuilding()
        # For benchmarks/startup.py: report readiness and leave.
        report = os.environ.get("WORKBENCH_REPORT_READY")
        if report:
            write_ready_report(Path(report))
            self.exit(0)

    @work(thread=True, exclusive=True, group="hub-probe", exit_on_error=False)
    def check_hub(self) -> None:
        status = probe_hub(self.settings.hub_endpoint, self.settings.hub_probe_timeout)
        self.post_message(HubStatusChanged(status.value))

    @on(HubStatusChanged)
    def _hub_status_changed(self, message: HubStatusChanged) -> None:
        self.hub_status = message.status

    @on(ActiveModelChanged)
    def _active_model_changed(self, message: ActiveModelChanged) -> None:
        self.active_model = message.name
        self.active_model_path = message.path

    @on(ActiveDatasetChanged)
    def _active_dataset_changed(self, message: ActiveDatasetChanged) -> None:
        self.active_dataset = message.info

    @on(SendToTokenizer)
    async def _send_to_tokenizer(self, message: SendToTokenizer) -> None:
        args: tuple = (message.text, message.pair)
        if message.source or message.max_length:  # the Errors view's jump: the run's tokenizer and its cut
            args += (message.source, message.max_length, message.truncation, message.windows, message.stride)
        await self._route("tokenizer", "show_text", *args)

    @on(OpenModelRequested)
    async def _open_model(self, message: OpenModelRequested) -> None:
        example = (message.text, message.pair) if message.text is not None else ()  # the Errors view's example
        await self._route("models", "open_model", message.path, *example)

    @on(DatasetRowRequested)
    async def _dataset_row(self, message: DatasetRowRequested) -> None:
        await self._route(
            "datasets", "show_row", message.source, message.row, message.split, message.splits, message.config
        )

    @on(PaneRequested)
    def _pane_requested(self, message: PaneRequested) -> None:
        self.action_show_pane(message.pane_id)

    @on(DemoRequested)
    def _demo_requested(self, message: DemoRequested) -> None:
        if message.target is None:
            self.demo.stop()
        else:
            self.demo.start(message.target)

    def on_unmount(self) -> None:
        self.demo.shutdown()

    def action_demo_active_model(self) -> None:
        from workbench.ui.hub.target import push_target

        target = self.active_model_path or (push_target(None, self.settings.runs_path) or (None,))[0]
        if not target:
            self.notify("No model for a demo yet: open a model folder or finish a run.", severity="warning")
            return
        self.demo.start(str(target))

    @on(PushRequested)
    def _push_requested(self, message: PushRequested) -> None:
        from workbench.ui.hub.push_dialog import PushDialog

        self.push_screen(PushDialog(folder=message.folder, run_dir=message.run_dir))

    async def _route(self, pane_id: str, method: str, *args) -> None:
        """Show a pane (building it if it was never shown) and call one of its public methods."""
        if self.main_screen is not None:
            pane = await self.main_screen.open_pane(pane_id)
            getattr(pane, method)(*args)

    def watch_active_model(self) -> None:
        self._sync_header()

    def watch_hub_status(self) -> None:
        self._sync_header()

    def _sync_header(self) -> None:
        for header in self.main_screen.query(WorkbenchHeader) if self.main_screen else []:
            header.active_model = self.active_model
            header.hub_status = self.hub_status

    def on_screen_resume(self) -> None:
        self._sync_header()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """One place that turns a worker's unexpected error into a notification."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            import traceback

            error = event.worker.error
            title = f"{event.worker.name or 'background task'} failed"
            self.notify(f"{title}: {error}", severity="error", timeout=10)
            self.last_error = (title, "".join(traceback.format_exception(error)))

    def notify(self, message: str, *, title: str = "", severity: str = "information", **options) -> None:
        """Textual's notify; an error shown is also kept for `f2` (a report to paste into a forum post)."""
        if severity == "error":
            self.last_error = (title or "An error the workbench showed", str(message))
        super().notify(message, title=title, severity=severity, **options)

    def action_report_last_error(self) -> None:
        from workbench.ui.widgets.report_dialog import ReportDialog

        if self.last_error is None:
            self.notify("No error to report: f2 reports the last error a pane showed", timeout=4)
            return
        title, error = self.last_error
        self.push_screen(ReportDialog.for_error(title, error, {"model": self.active_model}))

    # -- actions ---------------------------------------------------------------
    @property
    def main_screen(self) -> MainScreen | None:
        return next((screen for screen in self.screen_stack if isinstance(screen, MainScreen)), None)

    def action_show_pane(self, pane_id: str) -> None:
        """Show a pane now; one never shown is built first and shown when ready (see open_pane)."""
        if self.main_screen is not None:
            self.main_screen.show_pane(pane_id)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # A full-screen view over the panes that holds their keys (the Errors view): 1-4 neither show in
        # its footer nor switch panes under it.
        if action == "open_pane" and any(getattr(screen, "HOLDS_PANE_KEYS", False) for screen in self.screen_stack):
            return False
        return True

    async def action_open_pane(self, pane_id: str) -> None:
        """Show a pane once it is built with all its children, so the next key reaches it."""
        if self.main_screen is not None:
            await self.main_screen.open_pane(pane_id)

    async def action_quit(self) -> None:
        if self.main_screen is not None:
            await self.main_screen.builds_settled()
        await super().action_quit()

    def action_push_to_hub(self) -> None:
        from workbench.ui.hub.target import push_target

        target = push_target(self.active_model_path, self.settings.runs_path)
        if target is None:
            self.notify("Nothing to push yet: open a local model folder or finish a run.", severity="warning")
            return
        self.post_message(PushRequested(folder=target[0], run_dir=target[1]))

    async def action_help(self) -> None:
        if self.main_screen is not None:
            await self.main_screen.all_panes_ready()  # their keys are listed too
        self.push_screen(HelpScreen(self.collect_bindings()))

    def collect_bindings(self) -> list[tuple[str, str, str]]:
        """(key, description, where) for the app, the current screen and the visible panes."""
        rows: list[tuple[str, str, str]] = []
        seen: set[tuple[str, str]] = set()
        sources = [("app", self)]
        main = self.main_screen
        if main is not None:
            sources.append(("screen", main))
            for pane_id, title, _ in PANES:
                for pane in main.query(f"#{pane_id}-pane"):
                    sources.append((title, pane))
                    sources.extend((title, child) for child in pane.query("*"))
        for where, node in sources:
            for key, bindings in bindings_of(node).key_to_bindings.items():
                for binding in bindings:
                    description = binding.description or binding.tooltip
                    if (key, binding.action) in seen or not description:
                        continue
                    seen.add((key, binding.action))
                    rows.append((self.get_key_display(binding), description, where))
        rows.append(("ctrl+p", "Command palette: pane:, model:, run:, hub: commands and themes", "app"))
        return rows

    def palette_commands(self) -> list[PaletteCommand]:
        commands = pane_switch_commands(self, [(pane_id, title) for pane_id, title, _ in PANES])
        commands.append(PaletteCommand("app: help", self.action_help, "List every key"))
        commands.append(
            PaletteCommand(
                "app: report the last error",
                self.action_report_last_error,
                "A forum-ready report (versions, the error, what was done), copied or saved",
            )
        )
        commands.append(PaletteCommand("app: quit", self.exit, "Quit; running trainings carry on"))
        commands.append(
            PaletteCommand(
                "hub: push", self.action_push_to_hub, "Push the active model folder or the newest run to the Hub"
            )
        )
        commands.append(
            PaletteCommand(
                "demo: start",
                self.action_demo_active_model,
                "A Gradio demo of the active model (or the newest run's), on 127.0.0.1; prints the ssh -L line",
            )
        )
        if self.demo.active:
            commands.append(PaletteCommand("demo: stop", self.demo.stop, f"Stop the demo of {self.demo.state.target}"))
        if self.main_screen is not None:
            for pane_id in PANE_IDS:
                for pane in self.main_screen.query(f"#{pane_id}-pane"):
                    commands.extend(pane.palette_commands())
        return commands


def bindings_of(node) -> BindingsMap:
    """A node's bindings with the user's keymap applied. Textual keeps them in the private
    `DOMNode._bindings` (no public accessor lists another node's bindings); where that is missing,
    the class's BINDINGS as declared."""
    bindings_map = getattr(node, "_bindings", None)
    if isinstance(bindings_map, BindingsMap):
        return bindings_map
    return BindingsMap(getattr(node, "BINDINGS", []))


def write_ready_report(path: Path) -> None:
    """When the app became ready (wall clock), RSS and which heavy libraries were imported.

    The benchmark takes its own clock reading just before it starts the process: psutil's
    process create_time is derived from the boot time in whole seconds, so it can be up to
    a second off.
    """
    import psutil

    process = psutil.Process()
    heavy = sorted(
        name for name in ("torch", "transformers", "datasets", "evaluate", "accelerate") if name in sys.modules
    )
    path.write_text(
        json.dumps(
            {
                "ready_at": time.time(),
                "rss_mb": process.memory_info().rss / 2**20,
                "heavy_imports": heavy,
            }
        )
    )


def make_app(**options) -> WorkbenchApp:
    """Build the app exactly as users run it (the CLI and the tests both call this)."""
    return WorkbenchApp(**options)
