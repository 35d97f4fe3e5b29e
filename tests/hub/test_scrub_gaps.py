"""Issue 19: a Hub error whose text carries the token never shows it (the CLI's text and --json output).

The fake Hub echoes the token back in its error message, as a proxy or a misconfigured server may; each case
fails if `scrub` in core/hub/errors.py is turned off."""

from __future__ import annotations

import json

import pytest

from tests.hub.fake_hub import WRITE_TOKEN
from workbench.cli import main

ECHO = f"Authorization: Bearer {WRITE_TOKEN} was refused by the gateway"

# (the request that fails, its HTTP status, the kind of error the user gets)
CASES = [
    ("commit", 400, "server"),
    ("preupload", 422, "server"),
    ("create", 401, "invalid_token"),
    ("validate", 400, "invalid_card"),
    ("commit", 403, "forbidden"),
    ("info", 429, "server"),
]


@pytest.mark.parametrize(("kind", "status", "error_kind"), CASES, ids=[f"{k}-{s}" for k, s, _ in CASES])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_token_echoed_by_the_hub_is_scrubbed(
    hub, monkeypatch, capsys, model_folder, kind, status, error_kind, as_json
):
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    hub.fail_next(kind, status, ECHO)
    code = main(["push", str(model_folder), "--repo", "alice/scrub"] + (["--json"] if as_json else []))
    captured = capsys.readouterr()
    assert code == 2
    assert WRITE_TOKEN not in captured.out + captured.err
    assert "Traceback" not in captured.err
    if as_json:
        error = json.loads(captured.out)["error"]
        assert error["kind"] == error_kind
        text = error["message"]
    else:
        assert captured.err.startswith("workbench: ") or "\nworkbench: " in captured.err, captured.err
        text = captured.err
    assert "Authorization: Bearer *** was refused" in text, text


def test_a_token_in_a_network_error_is_scrubbed(hub, monkeypatch, capsys, model_folder):
    import httpx2
    from huggingface_hub import HfApi

    def whoami(self, *args, **kwargs):
        raise httpx2.ProxyError(f"407 from proxy for https://user:{WRITE_TOKEN}@proxy.local")

    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    monkeypatch.setattr(HfApi, "whoami", whoami)
    for extra in ([], ["--json"]):
        assert main(["push", str(model_folder), "--repo", "alice/scrub"] + extra) == 2
        captured = capsys.readouterr()
        assert WRITE_TOKEN not in captured.out + captured.err
        assert "https://user:***@proxy.local" in captured.out + captured.err
