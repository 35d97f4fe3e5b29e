"""`workbench spares [--stop]`: the spare run and demo processes started ahead in the runs folder, and ending them."""

from __future__ import annotations

import argparse
import time

KINDS = ("run", "demo")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "spares",
        help="list the spare run and demo processes started ahead for the next run or demo (--stop: end them)",
    )
    parser.add_argument("--stop", action="store_true", help="end them now (an unused one ends after 10 minutes)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from workbench.core import spares
    from workbench.core.runs.folder import runs_dir

    folder = runs_dir() / spares.SPARE_DIR
    if args.stop:
        ended = sum(spares.stop(folder, kind) for kind in KINDS)
        print(f"Ended {ended} spare process{'' if ended == 1 else 'es'} in {folder}.")
        return 0
    rows = [(kind, pid) for kind in KINDS for pid in spares.alive(folder, kind)]
    if not rows:
        print(f"No spare processes in {folder}.")
    for kind, pid in rows:
        socket_file = folder / f"{kind}-{pid}.sock"
        state = "waiting" if socket_file.exists() else "starting"
        since = _age(folder / f"{kind}-{pid}.pid") or _age(socket_file)
        print(f"{kind:<5} pid {pid:<8} {state:<9}{f' (started {since} ago)' if since else ''}")
    switch = "on" if spares.enabled() else f"off here ({spares.SPARE_ENV}=0)"
    print(
        f"Spares are {switch}: each run or demo starts one for the next, which ends after "
        f"{spares.IDLE_S / 60:.0f} minutes unused; {spares.SPARE_ENV}=0 turns them off."
    )
    return 0


def _age(path) -> str:
    try:
        seconds = time.time() - path.stat().st_mtime
    except OSError:
        return ""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
