"""`workbench report RUN [--no-redact] [--public-model ID] [--output FILE]`: a forum-ready Markdown
report for a failed or crashed run, saved as report.md in the run folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

RUN_HELP = "a run id, a unique part of one, a run folder, or 'latest'"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="a Markdown report of a failed run (error, environment, spec, reproducible script) to paste",
    )
    parser.add_argument("run", help=RUN_HELP)
    parser.add_argument(
        "--no-redact",
        action="store_true",
        help="keep local paths and user names (tokens are removed all the same)",
    )
    parser.add_argument(
        "--public-model",
        metavar="ID",
        help="a public Hub model id to use in the script instead of the run's local model",
    )
    parser.add_argument(
        "--output", metavar="FILE", type=Path, help="also write the report to FILE instead of printing it"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from workbench.core.errors import WorkbenchError
    from workbench.core.report import build_run_report, save_run_report
    from workbench.core.runs.folder import resolve_run
    from workbench.core.runs.listing import read_run

    run_dir = resolve_run(args.run)
    info = read_run(run_dir)  # a dead child with no final event reads as crashed
    if info.is_active:
        raise WorkbenchError(
            f"Run {info.run_id} is still {info.status}; a report is for a run that has ended.",
            hint=f"Stop it with `workbench stop {info.run_id}`, or wait for it to end.",
        )
    if info.status not in ("failed", "crashed"):
        print(f"workbench: run {info.run_id} {info.status} without an error; reporting it anyway", file=sys.stderr)
    markdown = build_run_report(
        run_dir,
        redact=not args.no_redact,
        public_model=args.public_model,
        status=info.status,
        error=info.error,
    )
    saved = save_run_report(run_dir, markdown)
    if args.output:
        try:
            args.output.expanduser().write_text(markdown, encoding="utf-8")
        except OSError as error:
            raise WorkbenchError(
                f"Could not write the report to {args.output}: {error.strerror or error}",
                hint=f"It is saved in the run folder all the same: {saved}",
            ) from None
        print(f"Report written to {args.output} and {saved}", file=sys.stderr)
    else:
        print(markdown)
        print(f"Saved as {saved}", file=sys.stderr)
    return 0
