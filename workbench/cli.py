"""The `workbench` command: the TUI with no arguments, headless subcommands otherwise.

Each subcommand lives in its own module under `workbench.commands` and exposes
`register(subparsers)`; those modules import nothing heavy at module level, so
`workbench --help` and the TUI start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from workbench import __version__
from workbench.core.errors import WorkbenchError

# Subcommand modules, in the order `--help` lists them.
COMMAND_MODULES = [
    "workbench.commands.locate",
    "workbench.commands.model",
    "workbench.commands.tokenize",
    "workbench.commands.data",
    "workbench.commands.train",
    "workbench.commands.eval",
    "workbench.commands.slurm",
    "workbench.commands.runs",
    "workbench.commands.attach",
    "workbench.commands.push",
    "workbench.commands.env",
    "workbench.commands.report",
    "workbench.commands.demo",
    "workbench.commands.export",
    "workbench.commands.spares",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="A terminal workbench for Hugging Face models. Run with no command to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:
                continue  # a subcommand not built yet
            raise
        module.register(subparsers)
    return parser


def run_app(attach_run: str | None = None) -> int:
    from workbench.ui.app import make_app

    app = make_app(attach_run=attach_run)
    app.run()
    return app.return_code or 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return run_app()
    from workbench.core.settings import load_settings

    for problem in load_settings().problems:  # once per command; the app shows them as notifications
        print(f"workbench: warning: {problem}", file=sys.stderr)
    try:
        return int(args.handler(args) or 0)
    except WorkbenchError as error:
        print(f"workbench: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
