"""The push dialog's token row: where the token comes from, whose it is, and a masked field to type one.

The view owns the login: Log in checks the typed token with the Hub and stores it with
huggingface_hub's login, in a worker that posts `LoggedIn`.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Label, Static

from workbench.core.hub.errors import HubError
from workbench.core.hub.token import Account, TokenChoice, find_token
from workbench.ui.widgets.secret_input import SecretInput


class PushTokenPanel(Static):
    """Shows "•••••••• · HF_TOKEN environment variable · alice · write token" and a masked input.

    The token value is never rendered: only its source and what whoami says about it. The field is
    a `SecretInput`: its value is in no message, repr or log line.
    """

    DEFAULT_CSS = """
    PushTokenPanel { height: auto; margin-bottom: 1; }
    PushTokenPanel > Horizontal { height: auto; }
    PushTokenPanel #token-summary { width: 1fr; margin-left: 2; }
    PushTokenPanel #token-input { width: 30; }
    PushTokenPanel #login { margin-left: 1; }
    PushTokenPanel .field-label { width: 12; }
    """

    @dataclass
    class LoggedIn(Message):
        """Log in finished: `account` on success (the field is then cleared), else `error`."""

        account: Account | None = None
        error: HubError | None = None

    def __init__(self, *, endpoint: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("Token", classes="field-label")
            yield SecretInput(
                placeholder="paste a token (hf_…)",
                compact=True,
                id="token-input",
                tooltip="Typed tokens are used for this push only, unless you press Log in",
            )
            yield Button(
                "Log in", id="login", compact=True, tooltip="Check the token and store it with huggingface_hub's login"
            )
            yield Static("", id="token-summary")

    def describe(self, choice: TokenChoice, account: Account | None, checking: bool = False) -> None:
        if choice.source == "none":
            text = "[b]no token[/b] · set HF_TOKEN, run `hf auth login`, or paste one and Log in"
        else:
            who = account.describe() if account else ("checking…" if checking else "not checked")
            text = f"{choice.masked} · {choice.label} · {who}"
        self.query_one("#token-summary", Static).update(text)

    @property
    def typed(self) -> str:
        return self.query_one("#token-input", SecretInput).value

    def choice(self) -> TokenChoice:
        """The token a check or a push uses: the typed one, else the environment's or the stored one."""
        return find_token(self.typed)

    @on(Button.Pressed, "#login")
    def _login_pressed(self) -> None:
        self.login(self.choice())

    @work(thread=True, exclusive=True, exit_on_error=False, group="push-login")
    def login(self, token: TokenChoice) -> None:
        # `token` is a TokenChoice, never the raw string: Textual logs worker arguments.
        from workbench.core.hub.client import HubClient

        try:
            account = HubClient(self.endpoint, token.value).login()
        except HubError as error:
            self.post_message(self.LoggedIn(error=error))
            return
        self.post_message(self.LoggedIn(account))

    @on(LoggedIn)
    def _logged_in(self, message: LoggedIn) -> None:
        if message.account is not None:
            self.query_one("#token-input", SecretInput).value = ""  # now stored; checks read it from there
