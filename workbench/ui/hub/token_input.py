"""The push dialog's token row: where the token comes from, whose it is, and a masked field to type one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Label, Static

from workbench.core.hub.token import Account, TokenChoice
from workbench.ui.widgets.secret_input import SecretInput


class PushTokenPanel(Static):
    """Shows "•••••••• · HF_TOKEN environment variable · alice · write token" and a masked input.

    The field is a `SecretInput`: its value is in no message, repr or log line.

    The token value is never rendered: only its source and what whoami says about it.
    """

    DEFAULT_CSS = """
    PushTokenPanel { height: auto; margin-bottom: 1; }
    PushTokenPanel > Horizontal { height: auto; }
    PushTokenPanel #token-summary { width: 1fr; margin-left: 2; }
    PushTokenPanel #token-input { width: 30; }
    PushTokenPanel #login { margin-left: 1; }
    PushTokenPanel .field-label { width: 12; }
    """

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
