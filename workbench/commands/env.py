"""`workbench env [--json]`: the versions, devices and settings to paste when asking for help."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "env",
        help="print the environment (versions, GPUs, Accelerate config, paths) for a forum post or an issue",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument(
        "--no-redact", action="store_true", help="keep the home folder and user name in paths (tokens never appear)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from workbench.core.report import Redactor, collect_environment, format_environment

    redactor = Redactor(redact=not args.no_redact)
    env = redactor.apply(collect_environment())
    if args.json:
        print(json.dumps(env, indent=2, default=str))
    else:
        print("Copy and paste this into a forum post or a GitHub issue:\n")
        print(redactor(format_environment(env)))
    return 0
