"""Issue 22 item 2: the Tokenizer pane's load must never be lost (it said "Loading…" forever)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.tokenizer.helpers import SIZE, new_app, settle

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter, so transformers is not imported yet: the Models pane's Heads tab imports it
# in one worker while the Tokenizer pane, shown right after, imports it in another.
HEADS_THEN_TOKENIZER = textwrap.dedent(
    """
    import asyncio
    from tests.tokenizer.helpers import SIZE, new_app, settle

    async def main():
        app = new_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.screen.query_one("#model-tabs").active = "model-heads-tab"
            await pilot.pause()
            await pilot.press("2")
            await settle(pilot, 6)
            pane = app.screen.query_one("#tokenizer-pane")
            print("LOADED" if pane.loaded is not None else "NOT LOADED")
            print("STATUS", pane.query_one("#tok-status").render())
            pane.query_one("#tok-text").focus()
            await pilot.press("f4", *"hi there")
            await settle(pilot)
            print("TOKENS", len(pane.result.windows[0].tokens) if pane.result else 0)

    asyncio.run(main())
    """
)


def test_heads_tab_then_tokenizer_pane_loads_the_tokenizer(tmp_path):
    env = {
        **os.environ,
        "WORKBENCH_CONFIG_DIR": str(tmp_path / "config"),
        "WORKBENCH_DATA_DIR": str(tmp_path / "data"),
        "HF_HUB_OFFLINE": "1",
        "WORKBENCH_PREBUILD_AFTER": "off",
    }
    done = subprocess.run(
        [sys.executable, "-c", HEADS_THEN_TOKENIZER], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "LOADED" in done.stdout.splitlines(), done.stdout + done.stderr[-2000:]
    assert "TOKENS 4" in done.stdout, done.stdout  # [CLS] hi there [SEP]


async def test_an_unexpected_load_error_is_shown_not_lost(monkeypatch):
    import workbench.core.tokenizer.loader as loader

    def broken(source):
        raise ImportError("cannot import name 'AutoTokenizer' from 'transformers'")

    monkeypatch.setattr(loader, "load_tokenizer", broken)
    app = new_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        pane = app.screen.query_one("#tokenizer-pane")
        status = str(pane.query_one("#tok-status").render())
        assert "Loading the tokenizer" not in status
        assert "Could not load the tokenizer" in status and "ImportError" in status
