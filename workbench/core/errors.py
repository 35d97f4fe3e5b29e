"""Errors that carry a message meant for the user, never a traceback."""


class WorkbenchError(Exception):
    """An error whose message is written for the person at the keyboard."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class HubOfflineError(WorkbenchError):
    """A Hub request was made while the Hub is known to be unreachable."""
