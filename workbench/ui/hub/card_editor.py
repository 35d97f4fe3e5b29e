"""The push dialog's model card: an editor and a preview, validated as the user types.

The view owns the card's state: the text as generated (a card that differs was edited by the user
and is never replaced behind their back) and whether its metadata is valid (`ok`). It posts
`CardChecked` after each validation so the dialog can enable or disable Push.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Markdown, Static, TabbedContent, TabPane, TextArea

VALIDATE_AFTER_S = 0.3  # wait for typing to pause before validating the card again


class PushCardEditor(Vertical):
    DEFAULT_CSS = """
    PushCardEditor #card-status { height: 1; color: $text-muted; }
    PushCardEditor TabbedContent { height: 1fr; }
    PushCardEditor TabPane { padding: 0; }
    PushCardEditor #card-editor { height: 1fr; }
    PushCardEditor #card-preview { height: 1fr; overflow-y: auto; }
    """

    @dataclass
    class CardChecked(Message):
        """The card was validated; `ok` is False while its metadata has errors."""

        editor: PushCardEditor
        ok: bool

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ok = True
        self.generated = ""  # the card text as last generated
        self._timer = None

    def compose(self) -> ComposeResult:
        yield Static("Model card", id="card-status")
        with TabbedContent(id="card-tabs"):
            with TabPane("Edit", id="card-edit"):
                yield TextArea(id="card-editor", soft_wrap=True, show_line_numbers=False)
            with TabPane("Preview", id="card-preview-pane"):
                yield Markdown(id="card-preview")

    @property
    def text(self) -> str:
        return self.query_one("#card-editor", TextArea).text

    @property
    def edited(self) -> bool:
        return self.text != self.generated

    def show_generated(self, text: str) -> None:
        """A card written by workbench: shown and validated at once."""
        self.generated = text
        with self.prevent(TextArea.Changed):
            self.query_one("#card-editor", TextArea).text = text
        self.validate()

    def regenerate(self, source, repo_id: str) -> None:
        """Write the card again from the run and for this repository (ctrl+g), edited or not."""
        from workbench.core.hub.card import build_card, card_facts

        self.show_generated(build_card(card_facts(source, repo_id), repo_id))

    def follow_repo(self, source, repo_id: str) -> None:
        """Once the repository is known in full (namespace/name), a card nobody edited is written for
        it again, so its title and usage example name the repository the files go to."""
        if source is None or "/" not in repo_id or self.edited:
            return
        from workbench.core.hub.card import build_card, card_facts

        text = build_card(card_facts(source, repo_id), repo_id)
        if text != self.text:
            self.show_generated(text)

    @on(TextArea.Changed, "#card-editor")
    def _typed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(VALIDATE_AFTER_S, self.validate)

    def validate(self) -> None:
        from huggingface_hub import ModelCard

        from workbench.core.hub.card import check_card

        text = self.text
        result = check_card(text)
        self.ok = result.ok
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
        self.post_message(self.CardChecked(self, result.ok))
