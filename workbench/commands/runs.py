"""`workbench runs | logs RUN [-f] | stop RUN [--kill] | resume RUN`: manage training runs headless."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

RUN_HELP = "a run id, a unique part of one, a run folder, or 'latest'"


def register(subparsers: argparse._SubParsersAction) -> None:
    runs_parser = subparsers.add_parser("runs", help="list training runs, newest first")
    runs_parser.add_argument("--json", action="store_true", help="one JSON object per run")
    runs_parser.add_argument("--all", action="store_true", help="list every run (default: the last 30)")
    runs_parser.set_defaults(handler=list_command)

    logs_parser = subparsers.add_parser("logs", help="print a run's log (stdout.log); -f follows it")
    logs_parser.add_argument("run", help=RUN_HELP)
    logs_parser.add_argument("-f", "--follow", action="store_true", help="keep printing until the run ends")
    logs_parser.add_argument("-n", "--lines", type=int, default=0, help="only the last N lines")
    logs_parser.set_defaults(handler=logs_command)

    stop_parser = subparsers.add_parser("stop", help="stop a run gracefully (finish the step, checkpoint)")
    stop_parser.add_argument("run", help=RUN_HELP)
    stop_parser.add_argument("--kill", action="store_true", help="SIGKILL it at once instead")
    stop_parser.add_argument("--wait", action="store_true", help="wait until it has stopped")
    stop_parser.set_defaults(handler=stop_command)

    resume_parser = subparsers.add_parser("resume", help="continue a stopped or crashed run from its last checkpoint")
    resume_parser.add_argument("run", help=RUN_HELP)
    resume_parser.add_argument("--detach", action="store_true", help="return at once instead of following it")
    resume_parser.add_argument("--json", action="store_true", help="JSON output")
    resume_parser.add_argument(
        "--print-launch",
        action="store_true",
        help="a run over several machines: print each machine's resume command (one line per rank); nothing starts",
    )
    resume_parser.set_defaults(handler=resume_command)


def _age(timestamp: float | None) -> str:
    if not timestamp:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def list_command(args: argparse.Namespace) -> int:
    from workbench.commands.train import run_info_record
    from workbench.core.errors import WorkbenchError
    from workbench.core.runs.folder import runs_dir
    from workbench.core.runs.listing import list_runs

    folder = runs_dir()
    if folder.exists() and not folder.is_dir():
        raise WorkbenchError(
            f"The runs folder {folder} is a file, not a folder.",
            hint="Set runs_dir in the settings (or WORKBENCH_RUNS_DIR) to a folder.",
        )
    infos = list_runs(folder)
    if not args.all:
        infos = infos[:30]
    if args.json:
        for info in infos:
            print(json.dumps(run_info_record(info)))
        return 0
    if not infos:
        print(f"no runs yet in {folder}; start one with `workbench train SPEC`")
        return 0
    rows = [("RUN", "STATUS", "MODEL", "DATA", "STEP", "BEST", "STARTED")]
    for info in infos:
        step = f"{info.step}/{info.total_steps}" if info.total_steps else str(info.step)
        best = f"{info.best_metric[0]} {info.best_metric[1]:.4f}" if info.best_metric else "-"
        model = info.model if len(info.model) <= 28 else "..." + info.model[-25:]
        rows.append((info.run_id, info.status, model, info.dataset, step, best, _age(info.started_at)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    for info in infos:
        if info.skipped_lines:
            print(f"note: {info.run_id}: {info.skipped_lines} invalid line(s) of events.jsonl skipped")
    return 0


def _find(target: str) -> Path:
    from workbench.core.runs.folder import resolve_run, runs_dir

    return resolve_run(target, runs_dir())


def logs_command(args: argparse.Namespace) -> int:
    from workbench.core.errors import WorkbenchError
    from workbench.core.runs.folder import STDOUT_FILE
    from workbench.core.runs.listing import log_tail, read_run

    if args.lines < 0:
        raise WorkbenchError(f"-n/--lines must be 0 or more, not {args.lines}.")
    run_dir = _find(args.run)
    log = run_dir / STDOUT_FILE
    offset = 0
    if args.lines:
        text = log_tail(run_dir, args.lines)
        if text:
            print(text)
        offset = log.stat().st_size if log.exists() else 0
    else:
        offset = _print_from(log, 0)
    if not args.follow:
        return 0
    try:
        while True:
            offset = _print_from(log, offset)
            if not read_run(run_dir).is_active:
                _print_from(log, offset)
                return 0
            time.sleep(0.3)
    except KeyboardInterrupt:
        return 130


def _print_from(log: Path, offset: int) -> int:
    try:
        with open(log, "rb") as file:
            file.seek(offset)
            chunk = file.read()
    except FileNotFoundError:
        return offset
    if chunk:
        sys.stdout.write(chunk.decode("utf-8", errors="replace"))
        sys.stdout.flush()
    return offset + len(chunk)


def stop_command(args: argparse.Namespace) -> int:
    from workbench.core.runs.listing import read_run
    from workbench.training import launch

    run_dir = _find(args.run)
    if args.kill:
        launch.kill_run(run_dir)
        print(f"killed run {run_dir.name}")
        return 0
    launch.stop_run(run_dir)
    print(f"asked run {run_dir.name} to stop after its current step")
    if args.wait:
        while read_run(run_dir).is_active:
            time.sleep(0.3)
        print(f"run {run_dir.name} is {read_run(run_dir).status}")
    return 0


def resume_command(args: argparse.Namespace) -> int:
    from workbench.commands.train import attach, run_info_record
    from workbench.training import launch

    run_dir = _find(args.run)
    if args.print_launch:
        from workbench.training.nodes import resume_commands, shell_line

        for rank, command in enumerate(resume_commands(run_dir)):
            print(f"# machine rank {rank}\n{shell_line(command)}")
        return 0
    info = launch.resume_run(run_dir)
    if args.detach:
        print(json.dumps(run_info_record(info)) if args.json else f"resumed run {info.run_id}")
        return 0
    return attach(run_dir, as_json=args.json)
