"""`workbench locate config|themes|runs|data`: print where workbench keeps things."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("locate", help="print the path of the config file, themes, runs or data")
    parser.add_argument("what", choices=["config", "themes", "runs", "data"])
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from workbench.core import paths
    from workbench.core.settings import load_settings

    locations = {
        "config": paths.config_file,
        "themes": paths.user_themes_dir,
        "runs": lambda: load_settings().runs_path,
        "data": paths.data_dir,
    }
    print(locations[args.what]())
    return 0
