"""The push-to-Hub dialog: where to, which files, which card, with which token; then upload.

The dialog owns the form and the state; everything that talks to the Hub runs in thread
workers from `workbench.core.hub` and reports back with the messages nested below.
"""

from __future__ import annotations

import threading
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    Markdown,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)
from textual.worker import Worker, WorkerState

from workbench.core.errors import WorkbenchError
from workbench.core.hub.errors import HubError
from workbench.ui.hub.files import PushFileList
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
    PushDialog #push-title { text-style: bold; height: 1; }
    PushDialog #push-source { color: $text-muted; height: 1; margin-bottom: 1; }
    PushDialog .row { height: 1; margin-bottom: 1; }
    PushDialog .field-label { width: 12; }
    PushDialog .row Input, PushDialog #token-input { width: 1fr; background: $boost; }
    PushDialog .row Checkbox { width: 26; margin-left: 2; }
    PushDialog #exclude-label { width: 9; margin-left: 2; }
    PushDialog #push-panes { height: 1fr; }
    PushDialog #files-box { width: 2fr; height: 1fr; }
    PushDialog #card-box { width: 3fr; height: 1fr; }
    PushDialog #files-title, PushDialog #card-status { height: 1; color: $text-muted; }
    PushDialog TabbedContent { height: 1fr; }
    PushDialog TabPane { padding: 0; }
    PushDialog #card-editor { height: 1fr; }
    PushDialog #card-preview { height: 1fr; overflow-y: auto; }
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
    class SourceLoaded(Message):
        def __init__(self, source, card_text: str, repo_name: str) -> None:
            super().__init__()
            self.source, self.card_text, self.repo_name = source, card_text, repo_name

    class Checked(Message):
        def __init__(
            self,
            generation: int,
            token,
            account=None,
            preflight=None,
            error: HubError | None = None,
            repo_id: str = "",
            files: list | None = None,
        ) -> None:
            super().__init__()
            self.generation, self.token, self.account = generation, token, account
            self.preflight, self.error, self.repo_id, self.files = preflight, error, repo_id, files

    class LoggedIn(Message):
        def __init__(self, account=None, error: HubError | None = None) -> None:
            super().__init__()
            self.account, self.error = account, error

    class PushProgressed(Message):
        def __init__(self, progress) -> None:
            super().__init__()
            self.progress = progress

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PushDialog.PushProgressed)

    class PushFinished(Message):
        def __init__(self, result=None, error: HubError | None = None) -> None:
            super().__init__()
            self.result, self.error = result, error

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
        self._card_timer = None
        self._cancel = threading.Event()
        self._allow_existing = False
        self._card_ok = True
        self._generated_card = ""  # the card text as generated; a card that differs was edited

    def compose(self) -> ComposeResult:
        with Vertical(id="push-box"):
            yield Static("Push to the Hugging Face Hub", id="push-title")
            yield Static("Reading the model folder…", id="push-source")
            yield PushTokenPanel(id="push-token")
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
                with Vertical(id="files-box"):
                    yield Static("Files", id="files-title")
                    yield PushFileList(id="push-files")
                with Vertical(id="card-box"):
                    yield Static("Model card", id="card-status")
                    with TabbedContent(id="card-tabs"):
                        with TabPane("Edit", id="card-edit"):
                            yield TextArea(id="card-editor", soft_wrap=True, show_line_numbers=False)
                        with TabPane("Preview", id="card-preview-pane"):
                            yield Markdown(id="card-preview")
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

    @work(thread=True, exclusive=True, exit_on_error=False, group="push-login")
    def login(self, token) -> None:
        from workbench.core.hub.client import HubClient

        try:
            account = HubClient(self.endpoint, token.value).login()
        except HubError as error:
            self.post_message(self.LoggedIn(error=error))
            return
        self.post_message(self.LoggedIn(account))

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

        return {
            "folder": self.source.folder if self.source else Path(self.folder),
            "repo_id": self._value("#repo-input"),
            "private": self.query_one("#private", Checkbox).value,
            "branch": self._value("#branch-input") or "main",
            "create_pr": self.query_one("#create-pr", Checkbox).value,
            "commit_message": self._value("#message-input"),
            "include": split_patterns(self._value("#include-input")) or ["*"],
            "exclude": split_patterns(self._value("#exclude-input")),
            "card_text": self.query_one("#card-editor", TextArea).text,
            "allow_existing": self._allow_existing,
        }

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
        token = _token_choice(self.query_one(PushTokenPanel).typed)
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

    @on(TextArea.Changed, "#card-editor")
    def _card_changed(self) -> None:
        if self._card_timer is not None:
            self._card_timer.stop()
        self._card_timer = self.set_timer(0.3, self._validate_card)

    def _validate_card(self) -> None:
        from huggingface_hub import ModelCard

        from workbench.core.hub.card import check_card

        text = self.query_one("#card-editor", TextArea).text
        result = check_card(text)
        self._card_ok = result.ok
        status = self.query_one("#card-status", Static)
        if result.errors:
            status.update(f"[b $error]Model card: {result.errors[0]}[/]")
        elif result.warnings:
            status.update(f"Model card · [$warning]{result.warnings[0]}[/]")
        else:
            status.update("Model card · metadata valid")
        try:
            body = ModelCard(text, ignore_metadata_errors=True).text if result.ok else text
        except ValueError:
            body = text
        self.query_one("#card-preview", Markdown).update(body)
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
        with self.prevent(Input.Changed, TextArea.Changed):
            self.query_one("#repo-input", Input).value = message.repo_name
            default_message = (
                f"Upload {source.run_id} with workbench" if source.run_id else "Upload model with workbench"
            )
            self.query_one("#message-input", Input).value = default_message
            self.query_one("#card-editor", TextArea).text = message.card_text
        self._generated_card = message.card_text
        self._validate_card()
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
        self._card_for_repo(repo.value.strip())
        self.preflight = message.preflight
        if message.files is not None:
            self.query_one(PushFileList).show(message.files)
            self._files_title(message.files)
        self._show_problem(message.error or (message.preflight.problem if message.preflight else None))

    def _files_title(self, files) -> None:
        from workbench.core.hub.files import human_size

        counts = {status: sum(1 for f in files if f.status == status) for status in ("new", "changed", "unchanged")}
        summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        total = human_size(sum(f.size for f in files))
        self.query_one("#files-title", Static).update(
            f"Files · {len(files)} ({total})" + (f" · {summary}" if summary else "")
        )

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
            self.state not in ("ready", "done") or blocking or not self._card_ok or self.preflight is None
        )
        push_button.label = "Push into existing" if kind == "exists" else "Push"
        self.query_one("#use-pr", Button).set_class(kind != "forbidden", "hidden")
        self.query_one("#use-namespace", Button).set_class(kind != "forbidden" or self.account is None, "hidden")
        self.query_one("#close", Button).label = "Cancel upload" if self.state == "pushing" else "Close"

    @on(LoggedIn)
    def _logged_in(self, message: LoggedIn) -> None:
        if message.error is not None:
            self._show_problem(message.error)
            return
        self.query_one("#token-input", SecretInput).value = ""  # now stored; the next check reads it from there
        self.notify(f"Logged in as {message.account.name}; token stored by huggingface_hub", timeout=4)
        self._start_check()

    @on(PushProgressed)
    def _progressed(self, message: PushProgressed) -> None:
        from workbench.core.hub.files import human_size

        progress = message.progress
        label = {
            "checking": "Checking token and repository…",
            "creating": f"Creating {progress.current}…",
            "uploading": f"Sending {progress.files_done}/{progress.files_total} · {progress.current or 'starting'}"
            f" · {human_size(progress.bytes_done)} of {human_size(progress.bytes_total)}",
            "committing": "Committing… (cannot be cancelled now)",
        }.get(progress.stage, progress.stage)
        self.query_one("#push-progress-label", Label).update(label)
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
        lines = []
        if result.nothing_changed:
            lines.append(
                f"[b]Up to date[/b] · all {len(result.unchanged)} files are already on"
                f" {result.repo_id}@{result.branch}; no commit was made."
            )
        else:
            made = " (new repository)" if result.created_repo else ""
            lines.append(f"[b]Pushed[/b] {len(result.uploaded)} file(s) to {result.repo_url}{made}")
            if result.unchanged:
                lines.append(f"{len(result.unchanged)} unchanged file(s) skipped.")
        lines.append(f"Commit {result.commit_id}")
        if result.pr_url:
            lines.append(f"Pull request: {result.pr_url}")
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

    @on(Button.Pressed, "#login")
    def _login_pressed(self) -> None:
        self.login(_token_choice(self.query_one(PushTokenPanel).typed))

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
        self._card_for_repo(self._value("#repo-input"))
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
        self.upload(_token_choice(self.query_one(PushTokenPanel).typed), PushPlan(**options))

    def action_close_or_cancel(self) -> None:
        if self.state == "pushing":
            self._cancel.set()
            self.query_one("#push-progress-label", Label).update("Cancelling after the current file…")
            return
        self.dismiss(None)

    def action_recheck(self) -> None:
        self._start_check()

    def action_regenerate_card(self) -> None:
        from workbench.core.hub.card import build_card, card_facts

        if self.source is None:
            return
        repo_id = self._value("#repo-input")
        text = self._generated_card = build_card(card_facts(self.source, repo_id), repo_id)
        self.query_one("#card-editor", TextArea).text = text

    def _card_for_repo(self, repo_id: str) -> None:
        """Once the repository is known in full (namespace/name), a card nobody edited is written for
        it again, so its usage example and title name the repository the files go to."""
        editor = self.query_one("#card-editor", TextArea)
        if self.source is not None and "/" in repo_id and editor.text == self._generated_card:
            from workbench.core.hub.card import build_card, card_facts

            text = build_card(card_facts(self.source, repo_id), repo_id)
            if text != editor.text:
                self._generated_card = text
                editor.text = text


def _token_choice(typed: str):
    from workbench.core.hub.token import find_token

    return find_token(typed)


def _as_hub_error(error: WorkbenchError) -> HubError:
    return error if isinstance(error, HubError) else HubError("invalid_input", error.message, hint=error.hint)


def push_target(active_model_path: str, runs_dir: Path) -> tuple[str, str | None] | None:
    """What "hub: push" opens: the active local model folder, else the newest run with a model."""
    if active_model_path and Path(active_model_path).is_dir():
        folder = Path(active_model_path)
        run_dir = folder.parent if (folder.parent / "spec.toml").exists() else None
        return str(folder), str(run_dir) if run_dir else None
    try:
        runs = sorted((p for p in runs_dir.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
    except OSError:
        return None
    for run in runs:
        if (run / "final").is_dir():
            return str(run / "final"), str(run)
    return None
