"""The report dialog: a forum-ready Markdown report with copy to the clipboard and save.

Public API (for the Training pane, the monitor and the panes' error panels):

    ReportDialog(markdown: str | None = None, save_to: Path | None = None, *,
                 build: Callable[[], str] | None = None, autosave: bool = False, title: str = ...)
        Shows `markdown`, or runs `build()` in a worker (it may take seconds: it collects the
        versions) and shows what it returns. `save_to` is where Save writes (default: a new
        file under the data dir's reports/); `autosave` saves as soon as the report is built.
        Dismisses with the path it saved to, or None.

    ReportDialog.for_run(run_dir, *, redact=True, public_model=None)
        A failed or crashed run's report, built in a worker and saved as report.md in the run folder.

    ReportDialog.for_error(title, error, options=None, code=None, *, redact=True)
        An error a pane showed: what was being done, the message/traceback, the pane's options and
        its Show code. E.g. `self.app.push_screen(ReportDialog.for_error("Loading a tokenizer",
        traceback_text, {"source": path}, code))`.

Keys: ctrl+y copies (App.copy_to_clipboard: OSC 52, works over SSH), ctrl+s saves, escape closes.
Messages (bubble from the dialog's screen to the app): `ReportDialog.Copied`, `ReportDialog.Saved(path)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from workbench.core.errors import WorkbenchError
from workbench.core.report.build import first_line

TITLE = "Asking for help: paste this into a forum post or a GitHub issue"


class ReportDialog(ModalScreen[Path | None]):
    """A Markdown report, read-only, ready to copy or save."""

    DEFAULT_CSS = """
    ReportDialog { align: center middle; }
    ReportDialog > Vertical { width: 90%; max-width: 120; height: 90%;
        border: thick $primary; background: $surface; padding: 1 2; }
    ReportDialog #report-title { text-style: bold; margin-bottom: 1; }
    ReportDialog #report-text { height: 1fr; }
    ReportDialog #report-status { height: auto; color: $text-muted; margin-top: 1; }
    ReportDialog #report-status.-error { color: $error; }
    ReportDialog .dialog-buttons { height: auto; margin-top: 1; }
    ReportDialog .dialog-buttons Button { margin-right: 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="report.close", tooltip="Close the report"),
        Binding("ctrl+y", "copy", "Copy", id="report.copy", tooltip="Copy the report to the clipboard (OSC 52)"),
        Binding("ctrl+s", "save", "Save", id="report.save", tooltip="Save the report as a Markdown file"),
    ]

    @dataclass
    class Built(Message):
        """The worker built the report (or says in one line why it could not)."""

        markdown: str | None
        problem: str | None = None

    @dataclass
    class Copied(Message):
        """The report went to the clipboard."""

    @dataclass
    class Saved(Message):
        """The report was written to `path`."""

        path: Path

    def __init__(
        self,
        markdown: str | None = None,
        save_to: Path | None = None,
        *,
        build: Callable[[], str] | None = None,
        autosave: bool = False,
        title: str = TITLE,
    ) -> None:
        super().__init__()
        if markdown is None and build is None:
            raise ValueError("ReportDialog needs the markdown or a build function")
        self.markdown = markdown or ""
        self.save_to = save_to
        self.build = build
        self.autosave = autosave
        self.dialog_title = title
        self.saved_path: Path | None = None

    @classmethod
    def for_run(cls, run_dir: Path, *, redact: bool = True, public_model: str | None = None) -> ReportDialog:
        run_dir = Path(run_dir)

        def build() -> str:
            from workbench.core.report import build_run_report

            return build_run_report(run_dir, redact=redact, public_model=public_model)

        from workbench.core.report import REPORT_FILE

        return cls(save_to=run_dir / REPORT_FILE, build=build, autosave=True, title=f"Report for run {run_dir.name}")

    @classmethod
    def for_error(
        cls,
        title: str,
        error: str,
        options: dict | str | None = None,
        code: str | None = None,
        *,
        redact: bool = True,
    ) -> ReportDialog:
        def build() -> str:
            from workbench.core.report import build_error_report

            return build_error_report(title, error, options, code, redact=redact)

        return cls(build=build, title=f"Report: {title}")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.dialog_title, id="report-title")
            yield TextArea(self.markdown, read_only=True, soft_wrap=True, id="report-text")
            yield Static(self._hint(), id="report-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy  ^y", id="report-copy", variant="primary")
                yield Button("Save  ^s", id="report-save")
                yield Button("Close  esc", id="report-close")

    def _hint(self) -> str:
        where = f"Save writes {self.save_to.name} in the run folder" if self.save_to else "Save writes a Markdown file"
        return f"Tokens are removed; read it through before posting. {where}."

    def on_mount(self) -> None:
        if self.build is not None and not self.markdown:
            text = self.query_one("#report-text", TextArea)
            text.loading = True
            self._build_report(self.build)
        else:
            self.query_one("#report-copy", Button).focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="report-build", name="report builder")
    def _build_report(self, build: Callable[[], str]) -> None:
        try:
            self.post_message(self.Built(build()))
        except Exception as error:  # any failure is shown in the dialog, never left loading
            message = str(error) if isinstance(error, WorkbenchError) else f"{type(error).__name__}: {error}"
            self.post_message(self.Built(None, f"Could not build the report: {first_line(message)}"))

    @on(Built)
    def _built(self, event: Built) -> None:
        event.stop()
        text = self.query_one("#report-text", TextArea)
        text.loading = False
        if event.markdown is None:
            self._status(event.problem or "Could not build the report.", error=True)
            return
        self.markdown = event.markdown
        text.load_text(event.markdown)
        self.query_one("#report-copy", Button).focus()
        if self.autosave:
            self.action_save()

    def _status(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#report-status", Static)
        status.update(message)
        status.set_class(error, "-error")

    def action_copy(self) -> None:
        if not self.markdown:
            self.notify("The report is not ready yet.", severity="warning")
            return
        self.app.copy_to_clipboard(self.markdown)
        self.notify("Report copied to the clipboard.")
        self.post_message(self.Copied())

    def action_save(self) -> None:
        if not self.markdown:
            self.notify("The report is not ready yet.", severity="warning")
            return
        from workbench.core.report import default_report_path, write_report

        path = self.save_to or default_report_path()
        try:
            write_report(path, self.markdown)
        except OSError as error:
            self._status(f"Could not save the report to {path}: {error.strerror or error}", error=True)
            return
        self.saved_path = path
        self._status(f"Saved as {path}")
        self.post_message(self.Saved(path))

    def action_close(self) -> None:
        self.dismiss(self.saved_path)

    @on(Button.Pressed, "#report-copy")
    def _copy_pressed(self) -> None:
        self.action_copy()

    @on(Button.Pressed, "#report-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#report-close")
    def _close_pressed(self) -> None:
        self.action_close()
