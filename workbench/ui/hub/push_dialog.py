"""The push-to-Hub dialog: where to, which files, which card, with which token; then upload.

The dialog owns the form and the push state; its views own theirs: the token row and its login
(`token_input.PushTokenPanel`), the file list (`files.PushFilesBox`), the model card editor
(`card_editor.PushCardEditor`). Everything that talks to the Hub runs in thread workers from
`workbench.core.hub` and reports back with the messages nested below.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static
from textual.worker import Worker, WorkerState

from workbench.core.errors import WorkbenchError
from workbench.core.hub.errors import HubError
from workbench.ui.hub.card_editor import PushCardEditor
from workbench.ui.hub.files import PushFilesBox
from workbench.ui.hub.progress import progress_label, result_lines
from workbench.ui.hub.token_input import PushTokenPanel
from workbench.ui.widgets.secret_input import SecretInput


class PushDialog(ModalScreen[None]):
    RECHECK_DELAY_S = 0.6  # wait for typing to pause before asking the Hub again

    DEFAULT_CSS = """
    PushDialog { align: center middle; }
    PushDialog > #push-box {
        width: 96%; height: 96%; max-width: 140;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    PushDialog #push-title-row { height: 1; }
    PushDialog #push-title { text-style: bold; height: 1; width: 1fr; }
    PushDialog #upload-as-label { width: auto; margin-right: 1; color: $text-muted; }
    PushDialog #upload-as { width: 16; }
    PushDialog #push-source { color: $text-muted; height: 1; margin-bottom: 1; }
    PushDialog .row { height: 1; margin-bottom: 1; }
    PushDialog .field-label { width: 12; }
    PushDialog .row Input, PushDialog #token-input { width: 1fr; background: $boost; }
    PushDialog .row Checkbox { width: 26; margin-left: 2; }
    PushDialog #exclude-label { width: 9; margin-left: 2; }
    PushDialog #push-panes { height: 1fr; }
    PushDialog #files-box { width: 2fr; height: 1fr; }
    PushDialog #card-box { width: 3fr; height: 1fr; }
    PushDialog #push-problem {
        height: auto; max-height: 7; display: none; padding: 0 1;
        border-left: thick $error; background: $error 10%;
    }
    PushDialog #push-problem.warning { border-left: thick $warning; background: $warning 10%; }
    PushDialog #push-problem.visible { display: block; }
    PushDialog #push-result {
        height: auto; display: none; padding: 0 1; border-left: thick $success; background: $success 10%;
    }
    PushDialog #push-result.visible { display: block; }
    PushDialog #push-progress-row { height: 1; display: none; }
    PushDialog #push-progress-row.visible { display: block; }
    PushDialog #push-progress-label { width: 1fr; }
    PushDialog #push-buttons { height: 1; margin-top: 1; align: right middle; }
    PushDialog #push-buttons Button { margin-left: 1; }
    PushDialog #push-keys { width: 1fr; color: $text-muted; }
    PushDialog .hidden { display: none; }
    """
    BINDINGS = [
        Binding(
            "escape",
            "close_or_cancel",
            "Close",
            id="push.close",
            tooltip="Close the dialog, or cancel a running upload",
        ),
        Binding("ctrl+s", "push", "Push", id="push.push", tooltip="Upload the files and the model card"),
        Binding(
            "ctrl+r",
            "recheck",
            "Re-check",
            id="push.recheck",
            tooltip="Ask the Hub again about the token and the repository",
        ),
        Binding(
            "ctrl+g", "regenerate_card", "New card", id="push.card", tooltip="Regenerate the model card from the run"
        ),
    ]

    # -- messages (workers post them; handlers below own the state) -----------
    @dataclass
    class SourceLoaded(Message):
        source: object
        card_text: str
        repo_name: str

    @dataclass
    class Checked(Message):
        generation: int
        token: object  # a TokenChoice, whose repr hides the token
        account: object = None
        preflight: object = None
        error: HubError | None = None
        repo_id: str = ""
        files: list | None = field(default=None)

    LoggedIn = PushTokenPanel.LoggedIn  # the token row owns the login

    @dataclass
    class PushProgressed(Message):
        progress: object

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PushDialog.PushProgressed)

    @dataclass
    class PushFinished(Message):
        result: object = None
        error: HubError | None = None

    # -- setup -----------------------------------------------------------------
    def __init__(self, folder: str, run_dir: str | None = None, *, endpoint: str | None = None) -> None:
        super().__init__()
        self.folder = folder
        self.run_dir = run_dir
        self.endpoint = endpoint
        self.source = None
        self.account = None
        self.preflight = None
        self.problem: HubError | None = None
        self.result = None
        self.state = "loading"  # loading, ready, pushing, done
        self._generation = 0
        self._recheck_timer = None
        self._check_pending = False
        self._cancel = threading.Event()
        self._allow_existing = False
        self._space_folder: Path | None = None  # the exported demo, made on first use of "demo Space"
        self._space_lock = threading.Lock()
        self._model_repo = ""  # the repository field before switching to a Space
        self._upload_as = "model"

    def compose(self) -> ComposeResult:
        with Vertical(id="push-box"):
            with Horizontal(id="push-title-row"):
                yield Static("Push to the Hugging Face Hub", id="push-title")
                yield Label("Upload as", id="upload-as-label")
                yield Select(
                    [("model", "model"), ("demo Space", "space")],
                    value="model",
                    allow_blank=False,
                    id="upload-as",
                    tooltip="model: the model and its card · demo Space: its Gradio app (app.py, model/)",
                    compact=True,
                )
            yield Static("Reading the model folder…", id="push-source")
            yield PushTokenPanel(endpoint=self.endpoint, id="push-token")
            with Horizontal(classes="row"):
                yield Label("Repository", classes="field-label")
                yield Input(
                    placeholder="namespace/name",
                    id="repo-input",
                    tooltip="namespace/name; the namespace defaults to your user name",
                    compact=True,
                )
                yield Checkbox("Private", id="private", tooltip="Create the repository as private", compact=True)
            with Horizontal(classes="row"):
                yield Label("Branch", classes="field-label")
                yield Input(
                    "main", id="branch-input", tooltip="Branch to push to; created from main when missing", compact=True
                )
                yield Checkbox(
                    "Open as pull request",
                    id="create-pr",
                    tooltip="Propose the files as a pull request instead of pushing",
                    compact=True,
                )
            with Horizontal(classes="row"):
                yield Label("Message", classes="field-label")
                yield Input(id="message-input", tooltip="Commit message", compact=True)
            with Horizontal(classes="row"):
                yield Label("Include", classes="field-label")
                yield Input(
                    "*", id="include-input", tooltip="Comma-separated patterns of files to upload", compact=True
                )
                yield Label("Exclude", id="exclude-label")
                yield Input(id="exclude-input", tooltip="Comma-separated patterns of files to skip", compact=True)
            with Horizontal(id="push-panes"):
                yield PushFilesBox(id="files-box")
                yield PushCardEditor(id="card-box")
            yield Static(id="push-problem")
            yield Static(id="push-result")
            with Horizontal(id="push-progress-row"):
                yield Label("", id="push-progress-label")
                yield ProgressBar(total=1, id="push-progress", show_eta=False)
            with Horizontal(id="push-buttons"):
                yield Static("ctrl+s push · ctrl+r re-check · ctrl+g regenerate card · esc close", id="push-keys")
                yield Button("Use pull request", id="use-pr", classes="hidden", compact=True)
                yield Button("Use my namespace", id="use-namespace", classes="hidden", compact=True)
                yield Button("Push", id="push", variant="primary", disabled=True, compact=True)
                yield Button("Close", id="close", compact=True)

    def on_mount(self) -> None:
        from workbench.core.hub.files import DEFAULT_EXCLUDE
        from workbench.core.hub.token import find_token

        self.query_one("#exclude-input", Input).value = ", ".join(DEFAULT_EXCLUDE)
        self.query_one(PushTokenPanel).describe(find_token(), None, checking=True)
        self.load_source()

    # -- workers ---------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="push-source")
    def load_source(self) -> None:
        from workbench.core.hub.card import default_card
        from workbench.core.hub.push import last_push, suggest_repo_name
        from workbench.core.hub.source import resolve_source
        from workbench.core.settings import load_settings

        try:
            source = resolve_source(self.folder, load_settings().runs_path, run_dir=self.run_dir)
            previous = last_push(source.run_dir)
            repo_name = previous["repo_id"] if previous else suggest_repo_name(source)
            card = default_card(source, repo_name)  # its usage example names the repository, not the run
        except WorkbenchError as error:
            self.post_message(self.Checked(self._generation, None, error=_as_hub_error(error)))
            return
        self.post_message(self.SourceLoaded(source, card, repo_name))

    @work(thread=True, exclusive=True, exit_on_error=False, group="push-check")
    def check(self, generation: int, token, plan_options: dict) -> None:
        # `token` is a TokenChoice, never the raw string: Textual logs worker arguments.
        from workbench.core.hub.client import HubClient
        from workbench.core.hub.push import PushPlan, preflight

        account = None
        repo_id = plan_options["repo_id"]
        try:
            if plan_options["repo_type"] == "space" and plan_options["folder"] is None:
                plan_options["folder"] = self._export_space()
        except WorkbenchError as error:
            self.post_message(self.Checked(generation, token, error=_as_hub_error(error), repo_id=repo_id, files=[]))
            return
        files = PushPlan(**plan_options).files()  # local only: shown even when the Hub cannot be asked
        try:
            client = HubClient(self.endpoint, token.value)
            account = client.whoami()
            if "/" not in repo_id:
                repo_id = f"{account.name}/{repo_id}"
            result = preflight(PushPlan(**{**plan_options, "repo_id": repo_id}), client)
        except HubError as error:
            self.post_message(self.Checked(generation, token, account, error=error, repo_id=repo_id, files=files))
            return
        self.post_message(
            self.Checked(generation, token, account, preflight=result, repo_id=repo_id, files=result.files)
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="push-upload")
    def upload(self, token, plan) -> None:
        from workbench.core.hub.client import HubClient
        from workbench.core.hub.push import push, record_push

        try:
            client = HubClient(self.endpoint, token.value)
            result = push(
                plan,
                client,
                on_progress=lambda p: self.post_message(self.PushProgressed(p)),
                should_stop=self._cancel.is_set,
            )
            record_push(self.source.run_dir if self.source else None, result)
        except HubError as error:
            self.post_message(self.PushFinished(error=error))
            return
        self.post_message(self.PushFinished(result))

    def _export_space(self) -> Path:
        """The demo app of the run or model, exported once into a temporary folder (loads the model)."""
        from workbench.core.hub.space import space_from_run

        with self._space_lock:
            if self._space_folder is None:
                source = self.source
                use_run = source.run_dir is not None and source.folder == source.run_dir / "final"
                self._space_folder = space_from_run(source.run_dir if use_run else source.folder)
            return self._space_folder

    def on_unmount(self) -> None:
        if self._space_folder is not None:
            shutil.rmtree(self._space_folder, ignore_errors=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """An unexpected error in a worker: show it here, and never leave the dialog stuck."""
        if event.state is WorkerState.ERROR and event.worker.group.startswith("push"):
            error = HubError("server", f"Unexpected error: {event.worker.error}")
            if event.worker.group == "push-upload":
                self.post_message(self.PushFinished(error=error))
            else:
                self._show_problem(error)

    # -- form ------------------------------------------------------------------
    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _plan_options(self) -> dict:
        from workbench.core.hub.files import split_patterns

        if self.space:
            return {
                "folder": self._space_folder,  # None: the check worker exports it first
                "repo_id": self._value("#repo-input"),
                "private": self.query_one("#private", Checkbox).value,
                "branch": self._value("#branch-input") or "main",
                "create_pr": self.query_one("#create-pr", Checkbox).value,
                "commit_message": self._value("#message-input"),
                "include": split_patterns(self._value("#include-input")) or ["*"],
                "exclude": split_patterns(self._value("#exclude-input")),
                "card_text": None,  # the export's README.md, with the Space header
                "allow_existing": self._allow_existing,
                "repo_type": "space",
                "space_sdk": "gradio",
            }
        return {
            "folder": self.source.folder if self.source else Path(self.folder),
            "repo_id": self._value("#repo-input"),
            "private": self.query_one("#private", Checkbox).value,
            "branch": self._value("#branch-input") or "main",
            "create_pr": self.query_one("#create-pr", Checkbox).value,
            "commit_message": self._value("#message-input"),
            "include": split_patterns(self._value("#include-input")) or ["*"],
            "exclude": split_patterns(self._value("#exclude-input")),
            "card_text": self.query_one(PushCardEditor).text,
            "allow_existing": self._allow_existing,
            "repo_type": "model",
        }

    @property
    def space(self) -> bool:
        """Upload as a demo Space rather than the model."""
        return self.query_one("#upload-as", Select).value == "space"

    @property
    def busy(self) -> bool:
        """A check is scheduled or a worker runs (tests wait for this to settle)."""
        running = any(
            w.group.startswith("push") and w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in self.workers
        )
        return self._check_pending or running or self.state == "pushing"

    def _start_check(self) -> None:
        self._check_pending = False
        if self.source is None or self.state in ("pushing", "loading"):
            return
        self._generation += 1
        token = self.query_one(PushTokenPanel).choice()
        self.query_one(PushTokenPanel).describe(token, self.account, checking=True)
        self.check(self._generation, token, self._plan_options())

    def _schedule_check(self) -> None:
        if self._recheck_timer is not None:
            self._recheck_timer.stop()
        self._check_pending = True
        self._recheck_timer = self.set_timer(self.RECHECK_DELAY_S, self._start_check)

    @on(Input.Changed, "#repo-input, #branch-input, #include-input, #exclude-input")
    def _form_changed(self, event: Input.Changed) -> None:
        if event.input.id in ("repo-input", "branch-input"):
            self._allow_existing = False
        self._schedule_check()

    @on(SecretInput.Changed, "#token-input")
    def _token_changed(self) -> None:
        self._schedule_check()

    @on(Checkbox.Changed)
    def _checkbox_changed(self) -> None:
        self._schedule_check()

    @on(Select.Changed, "#upload-as")
    def _upload_as_changed(self) -> None:
        from workbench.core.hub.space import suggest_space_name

        if self.query_one("#upload-as", Select).value == self._upload_as:
            return
        self._upload_as = self.query_one("#upload-as", Select).value
        repo = self.query_one("#repo-input", Input)
        with self.prevent(Input.Changed):
            if self.space:
                self._model_repo = repo.value
                if repo.value.strip():
                    namespace, _, name = repo.value.strip().rpartition("/")
                    repo.value = (namespace + "/" if namespace else "") + suggest_space_name(name)
            elif self._model_repo:
                repo.value = self._model_repo
        self.query_one("#card-box").set_class(self.space, "hidden")
        self._allow_existing = False
        self.preflight = None
        self._sync_buttons()
        self._schedule_check()

    @on(PushCardEditor.CardChecked)
    def _card_checked(self) -> None:
        self._sync_buttons()

    # -- handlers --------------------------------------------------------------
    @on(SourceLoaded)
    def _source_loaded(self, message: SourceLoaded) -> None:
        self.source = message.source
        self.state = "ready"
        self._allow_existing = "/" in message.repo_name  # the repository this run was pushed to before
        source = message.source
        where = f"run {source.run_id} · {source.folder.name}/" if source.run_id else f"folder {source.folder.name}/"
        self.query_one("#push-source", Static).update(where + (f" · {source.note}" if source.note else ""))
        with self.prevent(Input.Changed):
            self.query_one("#repo-input", Input).value = message.repo_name
            default_message = (
                f"Upload {source.run_id} with workbench" if source.run_id else "Upload model with workbench"
            )
            self.query_one("#message-input", Input).value = default_message
        self.query_one(PushCardEditor).show_generated(message.card_text)
        self._start_check()

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        if message.generation != self._generation:
            return  # an answer to an older form
        if self.state == "loading":  # the source itself failed
            self.query_one("#push-source", Static).update("Nothing to push")
            self._show_problem(message.error)
            return
        self.account = message.account
        self.query_one(PushTokenPanel).describe(message.token, message.account)
        repo = self.query_one("#repo-input", Input)
        if message.repo_id and message.repo_id != repo.value and "/" not in repo.value:
            with self.prevent(Input.Changed):
                repo.value = message.repo_id
        if not self.space:
            self.query_one(PushCardEditor).follow_repo(self.source, repo.value.strip())
        self.preflight = message.preflight
        if message.files is not None:
            self.query_one(PushFilesBox).show(message.files)
        self._show_problem(message.error or (message.preflight.problem if message.preflight else None))

    def _show_problem(self, error: HubError | None) -> None:
        self.problem = error
        box = self.query_one("#push-problem", Static)
        if error is None:
            box.remove_class("visible")
        else:
            hint = f"\n{error.hint}" if error.hint else ""
            box.update(f"[b]{error.title}[/b] · {error.message}{hint}")
            box.add_class("visible")
            box.set_class(error.kind in ("exists", "cancelled"), "warning")
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        kind = self.problem.kind if self.problem else None
        push_button = self.query_one("#push", Button)
        blocking = kind is not None and kind not in ("exists", "cancelled", "network", "server")
        push_button.disabled = (
            self.state not in ("ready", "done")
            or blocking
            or not (self.space or self.query_one(PushCardEditor).ok)
            or self.preflight is None
        )
        push_button.label = "Push into existing" if kind == "exists" else "Push"
        self.query_one("#use-pr", Button).set_class(kind != "forbidden", "hidden")
        self.query_one("#use-namespace", Button).set_class(kind != "forbidden" or self.account is None, "hidden")
        self.query_one("#close", Button).label = "Cancel upload" if self.state == "pushing" else "Close"

    @on(PushTokenPanel.LoggedIn)
    def _logged_in(self, message: PushTokenPanel.LoggedIn) -> None:
        if message.error is not None:
            self._show_problem(message.error)
            return
        self.notify(f"Logged in as {message.account.name}; token stored by huggingface_hub", timeout=4)
        self._start_check()

    @on(PushProgressed)
    def _progressed(self, message: PushProgressed) -> None:
        progress = message.progress
        self.query_one("#push-progress-label", Label).update(progress_label(progress))
        bar = self.query_one("#push-progress", ProgressBar)
        bar.update(total=max(progress.bytes_total, 1), progress=progress.bytes_done)
        if progress.stage == "committing":
            self.query_one("#close", Button).disabled = True

    @on(PushFinished)
    def _finished(self, message: PushFinished) -> None:
        self.state = "ready"
        self.query_one("#push-progress-row").remove_class("visible")
        self.query_one("#close", Button).disabled = False
        if message.error is not None:
            # The repository now exists (we created it) or the user agreed to push into it.
            self._allow_existing = message.error.kind != "exists"
            self._show_problem(message.error)
            return
        result = self.result = message.result
        self.state = "done"
        lines = result_lines(result)
        box = self.query_one("#push-result", Static)
        box.update("\n".join(lines))
        box.add_class("visible")
        self._show_problem(None)
        self._allow_existing = True  # pushing again goes into the repository just made
        self._start_check()

    # -- buttons and actions -----------------------------------------------------
    @on(Button.Pressed, "#push")
    def _push_pressed(self) -> None:
        self.action_push()

    @on(Button.Pressed, "#close")
    def _close_pressed(self) -> None:
        self.action_close_or_cancel()

    @on(Button.Pressed, "#use-pr")
    def _use_pr(self) -> None:
        self.query_one("#create-pr", Checkbox).value = True

    @on(Button.Pressed, "#use-namespace")
    def _use_namespace(self) -> None:
        repo = self.query_one("#repo-input", Input)
        if self.account is not None:
            repo.value = f"{self.account.name}/{repo.value.split('/')[-1]}"

    def action_push(self) -> None:
        from workbench.core.hub.push import PushPlan

        if self.query_one("#push", Button).disabled:
            return
        if not self.space:
            self.query_one(PushCardEditor).follow_repo(self.source, self._value("#repo-input"))
        if self.problem is not None and self.problem.kind == "exists":
            self._allow_existing = True
        options = self._plan_options()
        options["allow_existing"] = self._allow_existing
        self.state = "pushing"
        self._cancel.clear()
        self._show_problem(None)
        self.query_one("#push-result").remove_class("visible")
        self.query_one("#push-progress-row").add_class("visible")
        self.query_one("#push-progress-label", Label).update("Starting…")
        self.query_one("#push-progress", ProgressBar).update(total=1, progress=0)
        self._sync_buttons()
        self.upload(self.query_one(PushTokenPanel).choice(), PushPlan(**options))

    def action_close_or_cancel(self) -> None:
        if self.state == "pushing":
            self._cancel.set()
            self.query_one("#push-progress-label", Label).update("Cancelling after the current file…")
            return
        self.dismiss(None)

    def action_recheck(self) -> None:
        self._start_check()

    def action_regenerate_card(self) -> None:
        if self.source is not None:
            self.query_one(PushCardEditor).regenerate(self.source, self._value("#repo-input"))


def _as_hub_error(error: WorkbenchError) -> HubError:
    return error if isinstance(error, HubError) else HubError("invalid_input", error.message, hint=error.hint)
