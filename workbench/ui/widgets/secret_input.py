"""A masked input whose value never leaves the widget: not in messages, reprs or Textual's log.

Textual logs every message it dispatches (with `TEXTUAL_LOG` set, to a file): an `Input.Changed`
carries the whole value, so each keystroke in a token field wrote the token (and all its prefixes)
to the log. `SecretInput` posts value-free messages instead of `Changed`/`Submitted`/`Blurred`, and
a pasted text reaches it wrapped so that its repr is masked. Read the value from the widget
(`secret_input.value`) in the handler, where it is needed, and pass it on in objects whose repr
hides it (e.g. `core.hub.token.TokenChoice`).
"""

from __future__ import annotations

import rich.repr
from textual import events
from textual.message import Message
from textual.widgets import Input

MASK = "••••••••"


class MaskedText(str):
    """A string whose repr is a mask: logging an object that holds it shows no secret."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(MASK) if self else "''"


class _ValueFree(Message):
    """Input builds its messages as `self.Changed(self, value, validation_result)`; these nested
    overrides take the same arguments and keep only the widget (deliberately not dataclasses)."""

    def __init__(self, input: SecretInput, *_value_and_validation) -> None:
        super().__init__()
        self.input = input

    @property
    def control(self) -> SecretInput:
        return self.input

    def __rich_repr__(self) -> rich.repr.Result:
        yield "input", self.input


class SecretInput(Input):
    """An `Input` in password mode that keeps its value out of everything Textual logs."""

    class Changed(_ValueFree):
        """The value changed: read it from `input.value` (it is not carried here)."""

    class Submitted(_ValueFree):
        """Enter was pressed in the field: read the value from `input.value`."""

    class Blurred(_ValueFree):
        """The field lost focus."""

    def __init__(self, value: str | None = None, **kwargs) -> None:
        kwargs.setdefault("password", True)
        super().__init__(value, **kwargs)

    def post_message(self, message: Message) -> bool:
        if isinstance(message, events.Paste) and not isinstance(message.text, MaskedText):
            message.text = MaskedText(message.text)  # Textual logs the event when this widget handles it
        return super().post_message(message)

    def __rich_repr__(self) -> rich.repr.Result:
        yield "id", self.id, None
        yield "value", MASK if self.value else "", ""

    def __repr__(self) -> str:
        return f"SecretInput(id={self.id!r})"
