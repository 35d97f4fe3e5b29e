"""`workbench attach RUN`: open the app straight into the monitor of a run (id, part of an id, or folder)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "attach",
        help="open the app on a run's monitor (its whole history, then live)",
        description="Open the Training pane on RUN: the monitor replays its history and follows it live."
        " RUN is a run id, a unique part of one, a run folder, or 'latest'.",
    )
    parser.add_argument("run", metavar="RUN", help="a run id, a unique part of one, a run folder, or 'latest'")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from workbench.cli import run_app
    from workbench.core.runs.folder import resolve_run, runs_dir

    folder = resolve_run(args.run, runs_dir())  # a bad RUN is a CLI error, not an empty app
    return run_app(attach_run=str(folder))
