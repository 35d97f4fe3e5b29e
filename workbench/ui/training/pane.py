"""Training pane: start, watch, compare and re-attach to runs.

Three views in one switcher: the runs list, the monitor of one run, and the comparison of
marked runs. Runs are child processes in their own session that outlive the app; this pane
only reads their folders (`workbench.training.runs`) and asks the engine to stop/kill/resume.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher, DataTable, Static

from workbench.core.errors import WorkbenchError
from workbench.core.runs.follow import resolve_run
from workbench.ui.messages import DemoRequested, OpenModelRequested, PaneRequested, PushRequested
from workbench.ui.palette import PaletteCommand
from workbench.ui.training.compare import CompareView
from workbench.ui.training.monitor import RunMonitor
from workbench.ui.training.runs_table import RunsTable
from workbench.ui.widgets.confirm_dialog import ConfirmDialog
from workbench.ui.widgets.empty_state import EmptyState

SCAN_INTERVAL_S = 2.0
ACTIVE = ("starting", "running")


class TrainingPane(Vertical):
    DEFAULT_CSS = """
    TrainingPane #runs-hint { height: 1; color: $text-muted; padding: 0 1; }
    TrainingPane #runs-view { height: 1fr; }
    TrainingPane #training-empty { display: none; }
    TrainingPane.-no-runs #training-empty { display: block; }
    TrainingPane.-no-runs RunsTable { display: none; }
    TrainingPane ContentSwitcher { height: 1fr; }
    """

    BINDINGS = [
        Binding(
            "n", "new_run", "New run", id="training.new", tooltip="Start a run from the selected model and dataset"
        ),
        Binding("space", "mark", "Mark", id="training.mark", tooltip="Mark or unmark the run for comparison"),
        Binding("c", "compare", "Compare", id="training.compare", tooltip="Overlay the curves of the marked runs"),
        Binding("escape", "show_list", "Runs", id="training.list", tooltip="Back to the list of runs"),
        Binding("s", "stop", "Stop", id="training.stop", tooltip="Stop gracefully: finish the step, checkpoint, exit"),
        Binding("k", "kill", "Kill", id="training.kill", tooltip="Kill the run's processes now (asks first)"),
        Binding(
            "r",
            "resume",
            "Resume",
            id="training.resume",
            tooltip="Continue a stopped or crashed run from its last checkpoint",
        ),
        Binding(
            "o",
            "open_model",
            "Open model",
            id="training.open_model",
            tooltip="Open the run's final model in the Models pane",
        ),
        Binding("p", "push", "Push", id="training.push", tooltip="Push the run's final model to the Hub"),
        Binding("f", "show_folder", "Folder", id="training.folder", tooltip="Show (and copy) the run folder's path"),
        Binding(
            "x",
            "errors",
            "Errors",
            show=False,  # the footer is full: F1 and the palette ("run: errors …") list it
            id="training.errors",
            tooltip="Where the run's latest evaluation went wrong: confusion matrix, worst examples",
        ),
        Binding(
            "d",
            "demo",
            "Demo",
            show=False,  # the footer is full: F1 and the palette ("demo: start") list it
            id="training.demo",
            tooltip="Serve a Gradio demo of the run's final model (127.0.0.1; the ssh -L line is shown)",
        ),
        Binding(
            "e",
            "report",
            "Report",
            show=False,  # the footer is full: F1 and the palette ("run: report …") list it
            id="training.report",
            tooltip="A forum-ready report of a failed run: versions, error, spec, a script that reproduces it",
        ),
    ]

    @dataclass
    class RunsListed(Message):
        runs: list
        error: str | None = None
        took_s: float = 0.0

    @dataclass
    class ControlDone(Message):
        verb: str
        run_dir: Path
        error: str | None = None
        opened: Path | None = None

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="runs-view"):
            with Vertical(id="runs-view"):
                yield Static(
                    "enter open · space mark · c compare · n new run · s stop · k kill · r resume", id="runs-hint"
                )
                yield RunsTable(id="runs-table")
                yield EmptyState(
                    "[b]Training[/b]\n\n"
                    "No runs yet. Press [b]n[/b] to start one from the selected model and dataset,"
                    " or run `workbench train spec.toml`; runs keep going when the app closes.",
                    id="training-empty",
                )
            yield RunMonitor(id="monitor")
            yield CompareView(id="compare")

    def __init__(self, *, runs_dir: Path | None = None, attach_run: str | None = None, **kwargs) -> None:
        """`runs_dir`: where runs live (the app's settings); `attach_run`: a run to show at start
        (`workbench attach`). The app hands both down through MainScreen."""
        super().__init__(**kwargs)
        self._runs_dir = runs_dir
        self.attach_run = attach_run

    def on_mount(self) -> None:
        self._hint = ""
        self._scan_timer = None
        # The last form's values and the (model, dataset) selection they started from: a failed start
        # or a run that fails early gives them back at the next `n`.
        self._draft: tuple[tuple, dict] | None = None
        self._launched: Path | None = None
        self.set_class(True, "-no-runs")
        if self.attach_run:
            # The monitor covers the list, which is scanned when shown: a scan now would parse the
            # same long events file as the history load, in a second thread contending for the GIL.
            self.call_after_refresh(self._attach_on_start)
        else:
            self.scan_runs()

    def on_show(self) -> None:
        """Keys work at once when the pane comes up: focus the current view."""
        self.call_after_refresh(self._focus_view)

    def _focus_view(self) -> None:
        target = {"monitor": RunMonitor, "compare": CompareView}.get(self.view, RunsTable)
        self.query_one(target).focus()

    @property
    def runs_dir(self) -> Path:
        if self._runs_dir is None:  # built on its own (not through MainScreen): the default folder
            from workbench.core.settings import load_settings

            self._runs_dir = load_settings().runs_path
        return self._runs_dir

    @property
    def view(self) -> str:
        return self.query_one(ContentSwitcher).current or "runs-view"

    # -- the list ---------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-scan", name="runs scan")
    def scan_runs(self) -> None:
        began = time.monotonic()
        try:
            from workbench.training.runs import list_runs

            runs = list_runs(self.runs_dir)
        except OSError as error:
            self.post_message(self.RunsListed([], error=f"Cannot list runs in {self.runs_dir}: {error}"))
            return
        self.post_message(self.RunsListed(runs, took_s=time.monotonic() - began))

    def _scan_if_listed(self) -> None:
        """Rescan while the list is on screen; behind the monitor a scan (which reads every run's
        events in a thread, holding the GIL in turns with the UI) only slows the live view down.
        Showing the list again scans at once."""
        if self._list_on_screen():
            self.scan_runs()
        else:
            self._scan_timer = self.set_timer(SCAN_INTERVAL_S, self._scan_if_listed)

    def _list_on_screen(self) -> bool:
        return self.view == "runs-view" and self.query_one("#runs-view").is_on_screen

    @on(RunsListed)
    def _runs_listed(self, message: RunsListed) -> None:
        # Listing reads every run's events: with long runs, look less often so the scans stay a small load.
        if self._scan_timer is not None:
            self._scan_timer.stop()
        self._scan_timer = self.set_timer(max(SCAN_INTERVAL_S, 20 * message.took_s), self._scan_if_listed)
        table = self.query_one(RunsTable)
        table.show_runs(message.runs)
        self.set_class(not message.runs, "-no-runs")
        if message.error:
            hint = message.error
        else:
            running = sum(run.status in ACTIVE for run in message.runs)
            hint = f"{len(message.runs)} runs, {running} running · enter open · space mark · c compare · n new run"
        if hint != self._hint:
            self._hint = hint
            self.query_one("#runs-hint", Static).update(hint)
        self._sync_bindings()

    @on(DataTable.RowHighlighted, "#runs-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._sync_bindings()

    @on(DataTable.RowSelected, "#runs-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.open_run(Path(event.row_key.value))

    # -- views ------------------------------------------------------------------
    def open_run(self, run_dir: Path) -> None:
        """Show one run's monitor: its whole history, then live."""
        monitor = self.query_one(RunMonitor)
        monitor.show_run(Path(run_dir))
        self.query_one(ContentSwitcher).current = "monitor"
        monitor.focus()
        self._sync_bindings()

    def _attach_on_start(self) -> None:
        try:
            run_dir = resolve_run(str(self.attach_run), self.runs_dir)
        except WorkbenchError as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        self.post_message(PaneRequested("training"))  # MainScreen starts on it; this is for a later attach
        self.open_run(run_dir)

    def action_show_list(self) -> None:
        self.query_one(ContentSwitcher).current = "runs-view"
        self.query_one(RunsTable).focus()
        self.scan_runs()
        self._sync_bindings()

    def action_mark(self) -> None:
        self.query_one(RunsTable).toggle_mark()

    def action_compare(self) -> None:
        table = self.query_one(RunsTable)
        folders = table.marked_runs()
        if not folders:
            current = table.current_run_dir()
            if current is None:
                self.notify("No runs to compare yet", severity="warning")
                return
            folders = [current]
            self.notify("Mark runs with space to overlay several", timeout=4)
        self.compare_runs(folders)

    def compare_runs(self, folders: list[Path]) -> None:
        view = self.query_one(CompareView)
        view.compare(folders)
        self.query_one(ContentSwitcher).current = "compare"
        view.focus()
        self._sync_bindings()

    # -- the run the controls act on --------------------------------------------
    def target_run_dir(self) -> Path | None:
        if self.view == "monitor":
            return self.query_one(RunMonitor).run_dir
        if self.view == "runs-view":
            return self.query_one(RunsTable).current_run_dir()
        return None

    def target_status(self) -> str | None:
        if self.view == "monitor":
            return self.query_one(RunMonitor).status
        run = self.query_one(RunsTable).current_run() if self.view == "runs-view" else None
        return getattr(run, "status", None)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        view = self.view if self.is_mounted else "runs-view"
        if action in ("mark", "compare"):
            return view == "runs-view"
        if action == "show_list":
            return view != "runs-view"
        if action in ("stop", "kill", "resume", "open_model", "push", "show_folder", "errors"):
            if view == "compare":
                return False
            status = self.target_status()
            if status is None:
                return None
            if action in ("stop", "kill"):
                return True if status in ACTIVE else None
            if action == "resume":
                return True if status in ("stopped", "crashed", "failed") else None
            if action in ("open_model", "push"):
                folder = self.target_run_dir()
                return True if folder is not None and (folder / "final").is_dir() else None
        return True

    def _sync_bindings(self) -> None:
        """Refresh the footer only when what the keys can do has changed (a footer rebuild is not free)."""
        folder = self.target_run_dir()
        state = (self.view, self.target_status(), folder is not None and (folder / "final").is_dir())
        if state != getattr(self, "_binding_state", None):
            self._binding_state = state
            self.refresh_bindings()

    def _require_target(self) -> Path | None:
        folder = self.target_run_dir()
        if folder is None:
            self.notify("Select a run first", severity="warning")
        return folder

    def action_stop(self) -> None:
        folder = self._require_target()
        if folder is not None:
            self.control("stop", folder)

    def action_kill(self) -> None:
        folder = self._require_target()
        if folder is None:
            return
        question = (
            f"Kill run [b]{folder.name}[/b] now?\n\nIts processes get SIGKILL: the current step is lost;"
            " checkpoints already saved stay, so it can be resumed. Stop (s) finishes the step and saves first."
        )
        self.app.push_screen(ConfirmDialog(question, "Kill"), partial(self._kill_confirmed, folder))

    def _kill_confirmed(self, folder: Path, confirmed: bool | None) -> None:
        if confirmed:
            self.control("kill", folder)

    def action_resume(self) -> None:
        folder = self._require_target()
        if folder is not None:
            self.control("resume", folder)

    @work(thread=True, exclusive=False, exit_on_error=False, group="run-control", name="run control")
    def control(self, verb: str, folder: Path) -> None:
        from workbench.training import runs

        try:
            if verb == "stop":
                runs.stop_run(folder)
            elif verb == "kill":
                runs.kill_run(folder)
            elif verb == "resume":
                runs.resume_run(folder)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.ControlDone(verb, folder, error=str(error)))
            return
        self.post_message(self.ControlDone(verb, folder))

    @on(ControlDone)
    def _control_done(self, message: ControlDone) -> None:
        if message.error and message.verb == "launch" and self._draft is not None:
            # Back to the form with every edit, and the reason at the top.
            self._open_form(self._draft[1], self._draft[0], problem=message.error)
        elif message.error:
            what = "start the run" if message.verb == "launch" else f"{message.verb} {message.run_dir.name}"
            self.notify(f"Could not {what}: {message.error}", severity="error", timeout=10)
        else:
            done = {"stop": "Stop requested for", "kill": "Killed", "resume": "Resumed", "launch": "Started"}[
                message.verb
            ]
            self.notify(f"{done} {message.run_dir.name}", timeout=4)
            if message.verb == "launch":
                self._launched = message.run_dir
            if message.verb in ("resume", "launch"):
                self.open_run(message.run_dir)
        self.scan_runs()

    def action_open_model(self) -> None:
        folder = self._require_target()
        if folder is None:
            return
        final = folder / "final"
        if not final.is_dir():
            self.notify(f"{folder.name} has no final model yet", severity="warning")
            return
        self.post_message(OpenModelRequested(str(final)))

    def action_push(self) -> None:
        folder = self._require_target()
        if folder is None:
            return
        final = folder / "final"
        if not final.is_dir():
            self.notify(f"{folder.name} has no final model to push yet", severity="warning")
            return
        self.post_message(PushRequested(str(final), str(folder)))

    def action_demo(self) -> None:
        folder = self._require_target()
        if folder is None:
            return
        if not (folder / "final").is_dir():
            self.notify(f"{folder.name} has no final model yet", severity="warning")
            return
        self.post_message(DemoRequested(str(folder)))

    def action_errors(self) -> None:
        from workbench.ui.training.errors_parts import has_predictions

        folder = self._require_target()
        if folder is None:
            return
        if not has_predictions(folder):
            self.notify(f"{folder.name} kept no predictions (yet): they come with its evaluations", severity="warning")
            return
        from workbench.ui.training.errors_parts import ErrorsSource
        from workbench.ui.training.errors_view import ErrorsView

        step = None  # the run's latest evaluation that kept predictions, or the one highlighted in the monitor
        if self.view == "monitor":
            monitor = self.query_one(RunMonitor)
            row, evaluations = monitor.query_one("#eval-table").cursor_row, monitor.history.evaluations
            chosen = evaluations[row] if 0 <= row < len(evaluations) else None
            if chosen is not None and chosen.predictions and (folder / chosen.predictions).is_file():
                step = chosen.step
        self.app.push_screen(ErrorsView(ErrorsSource(run_dir=folder, step=step)))

    def action_report(self) -> None:
        from workbench.ui.widgets.report_dialog import ReportDialog

        folder = self._require_target()
        if folder is not None:  # built in a worker; saved as report.md in the run folder
            self.app.push_screen(ReportDialog.for_run(folder))

    def action_show_folder(self) -> None:
        folder = self._require_target()
        if folder is None:
            return
        self.app.copy_to_clipboard(str(folder))
        self.notify(f"{folder}\n(copied to the clipboard)", title="Run folder", timeout=10)

    def action_new_run(self) -> None:
        from workbench.ui.training.start_form import spec_from_selection

        app = self.app
        model_path, dataset = getattr(app, "active_model_path", ""), getattr(app, "active_dataset", None)
        selection = (model_path, repr(dataset))
        if self._draft is not None and self._draft[0] == selection:
            spec = self._draft[1]  # the last form's values, while the selection they came from holds
        else:
            spec = spec_from_selection(model_path, dataset)
        self._open_form(spec, selection)

    def _open_form(self, spec: dict, selection: tuple, problem: str | None = None) -> None:
        from workbench.ui.training.start_form import StartRunScreen

        self.app.push_screen(StartRunScreen(spec, problem=problem), partial(self._form_closed, selection))
        self.start_spare_ahead()

    @work(thread=True, exclusive=True, exit_on_error=False, group="spare", name="spare run process")
    def start_spare_ahead(self) -> None:
        """While the form is filled in, a spare run process imports what the run will need (unless
        WORKBENCH_SPARE_RUN=0): the run it is handed reaches its first step seconds sooner."""
        from workbench.training import runs

        runs.start_spare_ahead(self.runs_dir)

    def _form_closed(self, selection: tuple, spec: dict | None) -> None:
        if spec is not None:
            self._draft = (selection, spec)  # kept until a run started from it finishes
            self.launch(spec)

    @work(thread=True, exclusive=False, exit_on_error=False, group="run-control", name="run launch")
    def launch(self, spec: dict) -> None:
        from workbench.training import runs

        try:
            info = runs.launch_run(spec, self.runs_dir)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.ControlDone("launch", self.runs_dir, error=str(error)))
            return
        self.post_message(self.ControlDone("launch", info.path))

    @on(RunMonitor.StatusChanged)
    def _monitor_status(self, message: RunMonitor.StatusChanged) -> None:
        if message.status == "finished" and self._draft is not None and self._launched == message.run_dir:
            self._draft = None  # done with: the next form starts from the selection again
        self._sync_bindings()
        if self._list_on_screen():
            self.scan_runs()  # otherwise showing the list scans

    # -- palette ----------------------------------------------------------------
    def palette_commands(self) -> list[PaletteCommand]:
        commands = [
            PaletteCommand("run: new", self.action_new_run, "Start a run from the selected model and dataset"),
            PaletteCommand("run: list", self._show_list_from_palette, "Show the list of runs"),
            PaletteCommand("run: compare marked", self.action_compare, "Overlay the curves of the marked runs"),
        ]
        folder = self.target_run_dir() if self.is_mounted else None
        if folder is not None:
            name = folder.name
            for verb, action, help_text in (
                ("stop", self.action_stop, "Stop gracefully"),
                ("kill", self.action_kill, "Kill now (asks first)"),
                ("resume", self.action_resume, "Continue from the last checkpoint"),
                ("open model", self.action_open_model, "Open the final model in the Models pane"),
                ("push", self.action_push, "Push the final model to the Hub"),
                ("folder", self.action_show_folder, "Show and copy the run folder path"),
                ("report", self.action_report, "A forum-ready report of its failure (e)"),
                ("errors", self.action_errors, "Where its latest evaluation went wrong (x)"),
            ):
                commands.append(PaletteCommand(f"run: {verb} {name}", action, help_text))
        return commands

    def _show_list_from_palette(self) -> None:
        self.post_message(PaneRequested("training"))
        self.action_show_list()
