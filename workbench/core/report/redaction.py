"""Take secrets and, on request, local details out of text that is about to be shared.

Tokens are always removed: the values of the token variables and the stored login token,
anything shaped like a Hugging Face token (`hf_` and 20 or more letters and digits), bearer
headers and passwords in URLs. Redaction (on by default) also writes the home folder as `~`
and the user name and host name as `<user>` and `<host>`.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

from workbench.core.hub.errors import scrub

TOKEN_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_API_TOKEN")
HF_TOKEN_PATTERN = re.compile(r"\bhf_[A-Za-z0-9]{20,}\b")
BEARER_PATTERN = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
URL_PASSWORD_PATTERN = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")
TOKEN_MASK = "hf_***"
_PATH_END = r"""[/\\\s"'`),:;]|$"""  # what may follow a path component


def known_tokens(environ: dict | None = None) -> list[str]:
    """The token values this machine could leak: the token variables and the stored login token."""
    environ = os.environ if environ is None else environ
    values = [environ.get(name, "").strip() for name in TOKEN_VARIABLES]
    try:
        from workbench.core.hub.token import stored_token

        values.append(stored_token() or "")
    except ImportError:  # huggingface_hub missing: no stored token either
        pass
    return [value for value in dict.fromkeys(values) if len(value) >= 4]


def scrub_tokens(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """`text` with every known secret and anything token-shaped replaced by a mask."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = scrub(text, secret)
    text = BEARER_PATTERN.sub(r"\1***", text)
    text = URL_PASSWORD_PATTERN.sub(r"\1***@", text)
    return HF_TOKEN_PATTERN.sub(TOKEN_MASK, text)


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no USER variable
        return ""


@dataclass
class Redactor:
    """Applied to every piece of a report; `redact=False` keeps paths and names but never tokens."""

    redact: bool = True
    home: str = field(default_factory=lambda: str(Path.home()))
    user: str = field(default_factory=_user_name)
    host: str = field(default_factory=socket.gethostname)
    secrets: list[str] = field(default_factory=known_tokens)

    def __post_init__(self) -> None:
        homes = {self.home.rstrip("/")}
        try:
            homes.add(str(Path(self.home).resolve()).rstrip("/"))
        except OSError:
            pass
        # The longest first, and never "/" (which would turn every path into ~).
        self._homes = sorted((home for home in homes if home), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = scrub_tokens(text, self.secrets)
        if not self.redact:
            return text
        for home in self._homes:
            text = re.sub(rf"(?<![\w.~/-]){re.escape(home)}(?={_PATH_END})", "~", text)
        if len(self.user) >= 2:
            # A path component (/scratch/alice/...) or user@host; never a word inside other text.
            name = re.escape(self.user)
            text = re.sub(rf"(?<=[/\\]){name}(?={_PATH_END})", "<user>", text)
            text = re.sub(rf"\b{name}@", "<user>@", text)
        if len(self.host) >= 3 and self.host not in ("localhost",):
            text = re.sub(rf"\b{re.escape(self.host)}\b", "<host>", text)
        return text

    def path(self, value: str) -> str:
        """A local path as shown in a report (under the home folder: `~/...`)."""
        return self(value)

    def apply(self, value):
        """The redactor over every string inside dicts and lists (for JSON output)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {key: self.apply(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.apply(item) for item in value]
        return value
