"""`workbench export RUN --to tensorboard|trackio DIR`: an existing run's history, written into a tracker."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

TARGETS = ("tensorboard", "trackio")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="write a run's history into TensorBoard or trackio, to compare old runs there"
    )
    parser.add_argument("run", help="a run id, a unique part of one, a run folder, or 'latest'")
    parser.add_argument("--to", required=True, choices=TARGETS, help="the tracker to write into")
    parser.add_argument(
        "dir", metavar="DIR", help="TensorBoard: a log dir (the run goes in DIR/RUN_ID); trackio: its TRACKIO_DIR"
    )
    parser.add_argument("--project", default=None, help="trackio project (default: $TRACKIO_PROJECT or workbench)")
    parser.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    from workbench.core.errors import WorkbenchError
    from workbench.core.runs.folder import EVENTS_FILE, resolve_run
    from workbench.core.runs.protocol import EventReader

    run_dir = resolve_run(args.run)
    reader = EventReader(run_dir / EVENTS_FILE)
    events = reader.poll()
    if not events:
        raise WorkbenchError(f"Run {run_dir.name} has no events to export (events.jsonl is empty or missing).")
    destination = Path(args.dir).expanduser().resolve()
    # The tracker would fail late ("tensorboard could not start: NotADirectoryError ...; the run goes on").
    existing = next(folder for folder in (destination, *destination.parents) if folder.exists())
    if not existing.is_dir():
        raise WorkbenchError(f"{existing} is a file, not a folder.", hint="Give a folder for DIR; a new one is made.")
    if args.to == "tensorboard":
        log_dir = destination / run_dir.name
        if log_dir.is_dir() and any(log_dir.glob("events.out.tfevents.*")):
            raise WorkbenchError(
                f"{log_dir} already holds TensorBoard events: exporting again would draw every curve twice.",
                hint="Remove that folder first, or export into another DIR.",
            )
        options = {"tensorboard_dir": log_dir}
    else:
        _point_trackio_at(destination)
        options = {"trackio_project": args.project}
        _refuse_existing_trackio_run(args.project, run_dir.name, destination)
    from workbench.training.trackers import TrackerMirror

    mirror = TrackerMirror([args.to], run_dir, threaded=False, **options)
    alerts = []
    for event in events:
        alerts += mirror.emit(event)
    alerts += mirror.close()
    for alert in alerts:
        print(f"workbench: {alert.message}", file=sys.stderr)
    if alerts:
        return 1
    counted = sum(1 for event in events if event.type in ("step", "evaluation", "system"))
    skipped = f" ({reader.bad_lines} unreadable lines skipped)" if reader.bad_lines else ""
    where = options.get("tensorboard_dir") or destination
    print(f"Exported {counted} events of {run_dir.name} to {args.to} in {where}{skipped}.")
    if args.to == "tensorboard":
        print(f"See them with `tensorboard --logdir {destination}`.")
    else:
        print(f"See them with `TRACKIO_DIR={destination} trackio show`.")
    return 0


def _point_trackio_at(directory: Path) -> None:
    """trackio reads TRACKIO_DIR once, at import: set it before, and refuse if it was imported elsewhere."""
    from workbench.core.errors import WorkbenchError

    if "trackio" in sys.modules:
        from trackio import utils

        if Path(utils.TRACKIO_DIR).resolve() != directory:
            raise WorkbenchError(f"trackio is already writing to {utils.TRACKIO_DIR}, not {directory}.")
        return
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["TRACKIO_DIR"] = str(directory)


def _refuse_existing_trackio_run(project: str | None, run_id: str, directory: Path) -> None:
    from workbench.core.errors import WorkbenchError
    from workbench.training.trackers import trackio_project

    project = trackio_project(project)
    try:
        from trackio.sqlite_storage import SQLiteStorage
    except ImportError:
        return  # the mirror says how to install it
    if run_id in SQLiteStorage.get_runs(project):
        raise WorkbenchError(
            f"trackio project {project!r} in {directory} already has run {run_id}: exporting again would"
            " draw every curve twice.",
            hint="Delete that run in trackio first, or export into another project (--project) or DIR.",
        )
