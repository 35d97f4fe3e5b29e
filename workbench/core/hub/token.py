"""Where the token comes from, who it belongs to and what it may do. The token itself is never shown.

Order, as huggingface_hub resolves it: a token typed in the dialog, then the `HF_TOKEN`
environment variable (or the legacy `HUGGING_FACE_HUB_TOKEN`), then the token stored by
`hf auth login` / `huggingface_hub.login`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

SOURCE_LABELS = {
    "typed": "typed in this dialog",
    "env": "HF_TOKEN environment variable",
    "stored": "stored token (hf auth login)",
    "none": "no token",
}
MASK = "•" * 8


@dataclass(frozen=True)
class TokenChoice:
    """A token and where it came from; `repr`/`str` never contain the token."""

    source: str  # one of SOURCE_LABELS
    value: str | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        return SOURCE_LABELS[self.source]

    @property
    def masked(self) -> str:
        return MASK if self.value else "—"

    def __str__(self) -> str:
        return f"{self.masked} ({self.label})"


def find_token(typed: str | None = None, environ: dict | None = None) -> TokenChoice:
    environ = os.environ if environ is None else environ
    if typed and typed.strip():
        return TokenChoice("typed", typed.strip())
    for variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        value = environ.get(variable, "").strip()
        if value:
            return TokenChoice("env", value)
    stored = stored_token()
    return TokenChoice("stored", stored) if stored else TokenChoice("none")


def stored_token() -> str | None:
    """The token saved by huggingface_hub's login (its own file, its own format)."""
    from huggingface_hub import constants

    try:
        value = open(constants.HF_TOKEN_PATH, encoding="utf-8").read().strip()
    except OSError:
        return None
    return value or None


@dataclass(frozen=True)
class Account:
    """What `whoami` says about a token."""

    name: str
    fullname: str = ""
    orgs: tuple[tuple[str, str], ...] = ()  # (org name, role in org)
    role: str | None = None  # "read", "write", "fineGrained" (None: not an access token, e.g. OAuth)
    token_name: str = ""
    fine_grained: dict | None = None

    @classmethod
    def from_whoami(cls, data: dict) -> Account:
        access = ((data.get("auth") or {}).get("accessToken")) or {}
        return cls(
            name=data.get("name", ""),
            fullname=data.get("fullname", "") or "",
            orgs=tuple((org.get("name", ""), org.get("roleInOrg", "") or "") for org in data.get("orgs", []) or []),
            role=access.get("role"),
            token_name=access.get("displayName", "") or "",
            fine_grained=access.get("fineGrained"),
        )

    @property
    def namespaces(self) -> list[str]:
        """The user's own namespace first, then organisations where the user may write."""
        return [self.name] + [org for org, role in self.orgs if role in ("write", "contributor", "admin", "")]

    def write_problem(self, namespace: str, create_pr: bool) -> str | None:
        """Why this token cannot push to `namespace` (None when it can, or when only the Hub can tell)."""
        if self.role == "read":
            return "read_only"
        if self.role == "fineGrained" and self.fine_grained is not None:
            if self._fine_grained_allows(namespace):
                return None
            return "forbidden" if self._fine_grained_writes_somewhere() else "read_only"
        if create_pr:
            return None  # any write token may open a pull request on a repository it can see
        if namespace == self.name:
            return None
        roles = dict(self.orgs)
        if namespace not in roles:
            return "forbidden"
        if roles[namespace] == "read":
            return "forbidden"
        return None

    def _fine_grained_writes_somewhere(self) -> bool:
        scoped = self.fine_grained.get("scoped", []) if self.fine_grained else []
        return any(p in ("repo.write", "repo.content.write") for entry in scoped for p in entry.get("permissions", []))

    def _fine_grained_allows(self, namespace: str) -> bool:
        scoped = self.fine_grained.get("scoped", []) if self.fine_grained else []
        for entry in scoped:
            entity = entry.get("entity", {})
            if entity.get("name") == namespace or entity.get("name", "").startswith(namespace + "/"):
                if any(
                    permission in ("repo.write", "repo.content.write") for permission in entry.get("permissions", [])
                ):
                    return True
        return False

    def describe(self) -> str:
        role = {"read": "read-only", "write": "write", "fineGrained": "fine-grained"}.get(
            self.role or "", self.role or "unknown role"
        )
        named = f" “{self.token_name}”" if self.token_name else ""
        return f"{self.name} · {role} token{named}"
