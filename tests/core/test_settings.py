from __future__ import annotations

import pytest

from workbench.core.errors import HubOfflineError
from workbench.core.hub.status import HubStatus, offline_by_environment, probe_hub, require_online
from workbench.core.settings import Settings, load_settings, save_settings, update_setting


def test_defaults_when_no_file(tmp_path):
    settings = load_settings(tmp_path / "missing.toml", environ={})
    assert settings == Settings()
    assert settings.problems == ()


def test_unknown_keys_reported_and_kept(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('theme = "x"\nmystery = 3\n')
    settings = load_settings(path, environ={})
    assert settings.theme == "x"
    assert any("mystery" in problem for problem in settings.problems)
    update_setting("theme", "y", path)
    text = path.read_text()
    assert "mystery = 3" in text and 'theme = "y"' in text


def test_corrupt_file_falls_back_to_defaults(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("theme = [unterminated")
    settings = load_settings(path, environ={})
    assert settings.theme == Settings().theme
    assert any("not valid TOML" in problem for problem in settings.problems)


def test_wrong_type_is_reported(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("hub_probe_timeout = 'soon'\n")
    settings = load_settings(path, environ={})
    assert settings.hub_probe_timeout == Settings().hub_probe_timeout
    assert any("hub_probe_timeout" in problem for problem in settings.problems)


def test_environment_overrides_file(tmp_path):
    path = tmp_path / "config.toml"
    save_settings(Settings(theme="workbench-paper"), path)
    settings = load_settings(path, environ={"WORKBENCH_THEME": "textual-dark", "WORKBENCH_RUNS_DIR": "/r"})
    assert settings.theme == "textual-dark"
    assert str(settings.runs_path) == "/r"


def test_offline_environment_fails_fast():
    assert offline_by_environment({"HF_HUB_OFFLINE": "1"})
    assert not offline_by_environment({})
    assert probe_hub() is HubStatus.OFFLINE  # tests run with HF_HUB_OFFLINE=1
    with pytest.raises(HubOfflineError, match="bert-base-uncased"):
        require_online("bert-base-uncased")


def test_probe_of_closed_port_is_offline(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    assert probe_hub("http://127.0.0.1:9", timeout=0.5) is HubStatus.OFFLINE
