"""Is the Hugging Face Hub reachable? Answer fast; never let a Hub call hang.

transformers hangs for about 47 s on an unreachable Hub before failing, so every hub id
request goes through `require_online` first, which fails at once when offline.
"""

from __future__ import annotations

import enum
import os
import socket
import threading
import urllib.parse

from workbench.core.errors import HubOfflineError


class HubStatus(enum.Enum):
    UNKNOWN = "checking"
    ONLINE = "online"
    OFFLINE = "offline"


_TRUTHY = {"1", "true", "yes", "on"}
_lock = threading.Lock()
_status = HubStatus.UNKNOWN


def offline_by_environment(environ: dict | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return any(
        environ.get(name, "").strip().lower() in _TRUTHY
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
    )


def probe_hub(endpoint: str = "https://huggingface.co", timeout: float = 1.5) -> HubStatus:
    """Open a TCP connection to the endpoint with a short timeout (no HTTP library needed)."""
    if offline_by_environment():
        return _remember(HubStatus.OFFLINE)
    parsed = urllib.parse.urlparse(endpoint)
    host = parsed.hostname or "huggingface.co"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return _remember(HubStatus.ONLINE)
    except OSError:
        return _remember(HubStatus.OFFLINE)


def _remember(status: HubStatus) -> HubStatus:
    global _status
    with _lock:
        _status = status
    return status


def current_status() -> HubStatus:
    if offline_by_environment():
        return HubStatus.OFFLINE
    return _status


def require_online(what: str) -> None:
    """Raise a clear error at once when a Hub request cannot succeed."""
    if current_status() is HubStatus.OFFLINE:
        raise HubOfflineError(
            f"The Hugging Face Hub is not reachable, so {what!r} cannot be fetched.",
            hint="Use a local folder, a model from the local cache, or the embedded default."
            " (HF_HUB_OFFLINE is honoured when set.)",
        )
