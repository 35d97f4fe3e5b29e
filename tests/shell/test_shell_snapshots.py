"""Snapshots of the app shell in two themes and of the help screen."""

from __future__ import annotations

import pytest

from workbench.ui.app import make_app

SIZE = (110, 32)


@pytest.mark.parametrize("theme", ["workbench-dusk", "workbench-paper"])
def test_shell_in_theme(snap_compare, theme, monkeypatch):
    monkeypatch.setenv("WORKBENCH_THEME", theme)
    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE)


def test_help_screen(snap_compare):
    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, press=["f1"])
