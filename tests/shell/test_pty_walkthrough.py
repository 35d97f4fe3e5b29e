"""A newcomer's first hour on a real terminal (issue 22): the real app on a pty, keys as bytes.

Start, `2` and type, `esc` `3` and open a headerless TSV, `4`, a new run from that file, `r`,
`esc`, Enter on another run, quit: no traceback anywhere, every step shows what it should.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.shell.pty_terminal import PtyApp

FIXTURE_RUNS = Path(__file__).parents[1] / "training" / "pane" / "fixtures" / "runs"
ROOT = Path(__file__).parents[2]


@pytest.fixture
def app_env(tmp_path) -> dict[str, str]:
    runs = tmp_path / "runs"
    shutil.copytree(FIXTURE_RUNS, runs)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WORKBENCH_", "TEXTUAL", "PYTEST", "COLUMNS", "LINES"))
    }
    env.update(
        TERM="xterm-256color",
        HF_HUB_OFFLINE="1",
        WORKBENCH_CONFIG_DIR=str(tmp_path / "config"),
        WORKBENCH_DATA_DIR=str(tmp_path / "data"),
        WORKBENCH_RUNS_DIR=str(runs),
        WORKBENCH_SPARE_RUN="0",  # no spare run process left waiting after the test (the start form starts one)
        PYTHONPATH=str(ROOT),
    )
    return env


COLA_LIKE = [  # CoLA's TSV as distributed: source, label, original mark, sentence; no header row
    ("gj04", 1, "", "Our friends won't buy this analysis, let alone the next one we propose."),
    ("gj04", 1, "", "One more pseudo generalization and I'm giving up."),
    ("gj04", 0, "*", "They drank the pub."),
    ("gj04", 1, "", "The sailors rode the breeze clear of the rocks."),
    ("gj04", 0, "*", "The more we study verbs, the crazier they get we."),
    ("gj04", 1, "", "Day by day the facts are getting murkier."),
]


@pytest.mark.slow
def test_newcomer_walkthrough_on_a_real_terminal(app_env, tmp_path):
    cola = tmp_path / "in_domain_train.tsv"
    cola.write_text("".join("\t".join(map(str, row)) + "\n" for row in COLA_LIKE * 5), encoding="utf-8")
    app = PtyApp(app_env, cwd=tmp_path)
    try:
        app.wait_for("Tokenizer")
        # 2: the Tokenizer, focus in its editor: type right away (no tab) and see the tokens.
        app.press("2")
        app.wait_for("[CLS]")  # the sample text's tokens: the tokenizer is loaded
        app.press("end")
        app.type(" hello world")
        app.wait_for("7592")  # the id of "hello" in the embedded WordPiece vocabulary
        # esc leaves the editor, 3 shows the Datasets pane; open a TSV without a header row.
        app.press("escape", "3")
        app.wait_for("Open")
        app.press("o")
        app.wait_for("first line is a header")
        app.type(str(cola))
        app.press("enter")
        app.wait_for("No header row?")  # offered: the dialog again, the header box unticked
        app.press("enter")
        app.wait_for("column_4")
        app.wait_for("They drank the pub.")
        # 4: the Training pane with the recorded runs; a new run from this file.
        app.press("4")
        app.wait_for("finished")
        app.press("n")
        app.wait_for("Start run")
        app.wait_for("column_4")  # the text column guessed in the Datasets pane travelled to the form
        app.press("ctrl+s")
        app.wait_for("no column")  # checked against the file before starting: nothing launched, edits kept
        app.press("escape")
        app.wait_for("finished")
        app.press("r")  # resume on the selected run: a clear answer, never a crash
        app.read(2.0)
        app.press("escape", "down", "enter")
        app.wait_for("loss")  # another run's monitor
        app.press("escape")
        app.wait_for("finished")
    finally:
        code = app.quit()
    output = app.output.decode("utf-8", "replace")
    assert "Traceback" not in output
    assert code == 0
