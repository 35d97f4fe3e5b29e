"""Issue 19 item 12: a settings file that cannot be read is named once (the CLI: one stderr line; the app: a
notification), the defaults are used, and the file is never overwritten (not even by a theme change)."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.core import paths
from workbench.core.settings import Settings, SettingsFileError, load_settings, update_setting

BAD_FILES = {
    "not-toml": (b'theme = "workbench-paper"\nruns_dir = [unterminated\n', "is not valid TOML (", "line 2"),
    "latin-1": ('theme = "th\xe8me"\n'.encode("latin-1"), "is not UTF-8 text (byte 0xe8 at offset 11)", ""),
    "binary": (b"\x00\x01\x02\xff\xfe", "is not UTF-8 text (byte 0xff", ""),
}


def write_config(content: bytes):
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_cli_names_a_bad_settings_file_once_and_goes_on(isolated_dirs, capsys, name):
    content, reason, detail = BAD_FILES[name]
    path = write_config(content)
    assert main(["runs", "--json"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"workbench: warning: settings file {path} {reason}"), err
    assert detail in err[0] and "using the defaults" in err[0]
    assert path.read_bytes() == content


def test_a_folder_in_place_of_the_settings_file(isolated_dirs, capsys):
    path = paths.config_file()
    path.mkdir(parents=True)
    assert main(["runs", "--json"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"workbench: warning: settings file {path} cannot be read (Is a directory)"), err
    assert load_settings() == Settings()


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "true"])
def test_a_probe_timeout_that_cannot_work_is_refused(isolated_dirs, value):
    path = write_config(f"hub_probe_timeout = {value}\n".encode())
    settings = load_settings(path, environ={})
    assert settings.hub_probe_timeout == Settings().hub_probe_timeout
    assert any("hub_probe_timeout" in problem for problem in settings.problems)


def test_saving_a_setting_never_overwrites_an_unreadable_file(isolated_dirs):
    content = BAD_FILES["not-toml"][0]
    path = write_config(content)
    with pytest.raises(SettingsFileError, match="theme not saved: the settings file .* is not valid TOML"):
        update_setting("theme", "workbench-paper", path)
    assert path.read_bytes() == content


def test_a_good_file_still_saves(isolated_dirs, capsys):
    path = write_config(b'theme = "workbench-paper"\n')
    update_setting("theme", "workbench-dusk", path)
    assert 'theme = "workbench-dusk"' not in path.read_text()  # the default is not written
    assert main(["runs", "--json"]) == 0 and capsys.readouterr().err == ""


async def test_app_notifies_and_keeps_the_file_on_a_theme_change(isolated_dirs):
    from workbench.ui.app import make_app

    content = BAD_FILES["not-toml"][0]
    path = write_config(content)
    app = make_app(probe_hub_on_start=False)
    shown: list[str] = []
    notify = app.notify

    def record(message, *args, **kwargs):
        shown.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = record
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.pause()
        assert [m for m in shown if str(path) in m and "is not valid TOML" in m], shown
        app.theme = "workbench-paper"
        await pilot.pause()
        assert any(m.startswith("theme not saved: the settings file") for m in shown), shown
    assert path.read_bytes() == content
    json.dumps(shown)  # plain text, nothing else
