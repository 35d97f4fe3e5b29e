"""Redaction: tokens never survive (redacted or not); home, user and host only when redacting."""

from __future__ import annotations

from tests.report.conftest import FAKE_TOKEN
from workbench.core.report.redaction import Redactor, scrub_tokens


def make(redact: bool = True, secrets=()) -> Redactor:
    return Redactor(redact=redact, home="/home/alice", user="alice", host="box-42", secrets=list(secrets))


def test_home_becomes_tilde_only_as_a_whole_path_prefix():
    redactor = make()
    text = "open /home/alice/data/train.csv, /home/alice and /home/alicex/a and /srv/home/alice/b"
    # (the user name inside the last path is then redacted as a name)
    assert redactor(text) == "open ~/data/train.csv, ~ and /home/alicex/a and /srv/home/<user>/b"


def test_user_name_as_path_component_or_login_but_not_inside_words():
    redactor = make()
    text = "/scratch/alice/run alice@box-42 malice /scratch/alice2/x"
    assert redactor(text) == "/scratch/<user>/run <user>@<host> malice /scratch/alice2/x"


def test_no_redact_keeps_paths_and_names():
    redactor = make(redact=False)
    text = "/home/alice/data alice@box-42"
    assert redactor(text) == text


def test_tokens_go_even_without_redaction():
    for redactor in (make(), make(redact=False)):
        text = f"token={FAKE_TOKEN} Authorization: Bearer {FAKE_TOKEN[::-1]} https://alice:{FAKE_TOKEN}@hf.co/x"
        out = redactor(text)
        assert FAKE_TOKEN not in out and FAKE_TOKEN[::-1] not in out
        assert "token=hf_***" in out
        assert "Bearer ***" in out
        assert "https://***@hf.co/x" in out


def test_known_secret_of_any_shape_is_removed():
    secret = "not-shaped-like-a-token-9f3"
    assert secret not in make(redact=False, secrets=[secret])(f"value {secret} here")


def test_identifiers_that_start_with_hf_are_left_alone():
    text = "hf_hub_download HF_HUB_OFFLINE hf_xet hf_datasets_cache"
    assert scrub_tokens(text) == text


def test_token_from_environment_is_known(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_short")
    assert "hf_short" not in Redactor(redact=False)("the token is hf_short")


def test_apply_walks_nested_data():
    data = {"paths": ["/home/alice/x"], "n": 3, "inner": {"t": FAKE_TOKEN}}
    assert make().apply(data) == {"paths": ["~/x"], "n": 3, "inner": {"t": "hf_***"}}
