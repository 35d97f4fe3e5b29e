"""`workbench train SPEC`: start a run (attached with a progress bar, or --detach); `--init` writes a spec."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="start a training run from a spec file (or write an example spec with --init)",
        description="Start a training run in a detached child process. Attached by default: a progress bar with"
        " ETA, loss and metrics; Ctrl-C stops the run gracefully (a second Ctrl-C detaches and leaves it running).",
    )
    parser.add_argument("spec", nargs="?", help="the run spec (TOML); with --init, the file to write")
    parser.add_argument("--detach", action="store_true", help="start the run and return at once")
    parser.add_argument(
        "--json", action="store_true", help="print the run info (and events when attached) as JSON lines"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a spec field, e.g. --set training.learning_rate=3e-5 (repeatable)",
    )
    parser.add_argument(
        "--print-launch",
        action="store_true",
        help="create the run folder and print the command for each machine (one line per machine rank, run"
        " each on its machine); nothing is started",
    )
    parser.add_argument("--init", action="store_true", help="write a commented example spec (to SPEC or stdout)")
    parser.add_argument("--model", help="with --init: the model folder or Hub id")
    parser.add_argument("--data", help="with --init: the training data file (its columns and labels are read)")
    parser.add_argument(
        "--validation", help="with --init: the validation file (default: a dev/valid/val file beside --data)"
    )
    parser.add_argument(
        "--task",
        default="sequence-classification",
        help="with --init: sequence-classification (default), token-classification, question-answering,"
        " masked-lm, causal-lm or seq2seq",
    )
    parser.add_argument("--force", action="store_true", help="with --init: overwrite an existing SPEC file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from workbench.core.errors import WorkbenchError
    from workbench.training import spec as specs

    if args.init:
        return write_example(args)
    if not args.spec:
        raise WorkbenchError(
            "Give a spec file: workbench train SPEC", hint="Write one with `workbench train --init spec.toml`."
        )
    spec = specs.load_spec(args.spec)
    if args.overrides:
        spec = specs.apply_overrides(spec, args.overrides)
    from workbench.training import launch

    errors = specs.validate_spec(spec)
    if errors:
        raise specs.SpecError(errors, source=args.spec)
    several = spec.get("training", {}).get("num_machines", 1) > 1
    if args.print_launch:
        return print_launch(spec)
    if several and spec["training"].get("machine_rank", 0) != 0:
        raise WorkbenchError(
            "`workbench train` starts the main machine (training.machine_rank = 0) and creates the run folder.",
            hint="On the other machines run their line of `workbench train SPEC --print-launch`.",
        )
    info = launch.launch_run(spec)
    if several and not args.json:
        print_other_nodes(info.path)
    if args.detach:
        if args.json:
            print(json.dumps(run_info_record(info)))
        else:
            print(
                f"started run {info.run_id}\n  folder: {info.path}\n  follow: workbench logs {info.run_id} -f"
                f"\n  stop:   workbench stop {info.run_id}"
            )
        return 0
    if not args.json:
        print(f"started run {info.run_id} ({info.path})", flush=True)
    return attach(info.path, as_json=args.json)


def print_launch(spec: dict) -> int:
    """The run folder (spec only; nothing starts) and one command line per machine rank on stdout."""
    from workbench.core.runs.listing import load_spec_quietly
    from workbench.training import launch, nodes

    info = launch.launch_run(spec, start=False)
    commands = nodes.node_commands(load_spec_quietly(info.path), info.path)
    print(f"run folder {info.path}: run line N on machine rank N (line 1: the main machine)", file=sys.stderr)
    for command in commands:
        print(nodes.shell_line(command))
    return 0


def print_other_nodes(run_dir: Path) -> None:
    from workbench.core.runs.listing import load_spec_quietly
    from workbench.training import nodes

    commands = nodes.node_commands(load_spec_quietly(run_dir), run_dir)
    print("on the other machines, from the same folder on shared storage:", file=sys.stderr)
    for rank, command in enumerate(commands[1:], start=1):
        print(f"  machine {rank}: {nodes.shell_line(command)}", file=sys.stderr)


def attach(run_dir: Path, *, as_json: bool = False) -> int:
    """Follow a run until it ends; Ctrl-C asks it to stop, a second Ctrl-C detaches."""
    from workbench.commands import progress as following
    from workbench.core.runs import protocol
    from workbench.core.runs.folder import EVENTS_FILE
    from workbench.training import launch

    progress = following.Progress(sys.stdout)
    reader = protocol.EventReader(Path(run_dir) / EVENTS_FILE)

    def on_event(event: protocol.Event) -> None:
        if as_json:
            print(protocol.encode(event), flush=True)
        else:
            progress.show(event)

    final = None
    stop_sent = False
    while final is None:
        try:
            final = following.follow_run(run_dir, on_event, reader=reader)
        except KeyboardInterrupt:
            if stop_sent:
                print(f"\ndetached; the run goes on: workbench logs {run_dir.name} -f", file=sys.stderr)
                return 130
            stop_sent = True
            print("\nstopping after the current step (Ctrl-C again to detach)...", file=sys.stderr, flush=True)
            try:
                launch.stop_run(run_dir)
            except Exception as error:  # the run may have just ended; keep following to its final event
                print(f"workbench: {error}", file=sys.stderr)
    if isinstance(final, protocol.Failed):
        return 1
    return 0


def run_info_record(info) -> dict:
    return {
        "run_id": info.run_id,
        "path": str(info.path),
        "status": info.status,
        "model": info.model,
        "dataset": info.dataset,
        "started_at": info.started_at,
        "ended_at": info.ended_at,
        "step": info.step,
        "total_steps": info.total_steps,
        "best_metric": list(info.best_metric) if info.best_metric else None,
        "pid": info.pid,
        "error": info.error,
        "skipped_lines": info.skipped_lines,
    }


def write_example(args: argparse.Namespace) -> int:
    from workbench.core.errors import WorkbenchError
    from workbench.training import spec as specs

    if args.task not in specs.HEADS:
        raise WorkbenchError(f"Unknown task {args.task!r}.", hint=f"Tasks: {', '.join(specs.HEADS)}.")
    spec = specs.default_spec(model=args.model, data=args.data, head=args.task)
    if args.data and Path(args.data).expanduser().is_file():
        spec = fill_from_data(spec, args.data, args.validation)
    if args.overrides:
        spec = specs.apply_overrides(spec, args.overrides)
    spec = specs.for_task(spec, spec["model"]["head"])
    text = specs.dump_spec(spec, comments=True)
    if not args.spec:
        sys.stdout.write(text)
        return 0
    path = Path(args.spec)
    if path.is_dir():
        raise WorkbenchError(
            f"{path} is a folder, not a spec file; nothing was written",
            hint=f"Give a file name, e.g. workbench train --init {path / 'spec.toml'}",
        )
    if path.exists() and not args.force:
        raise WorkbenchError(f"{path} exists", hint="Pass --force to overwrite it.")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise WorkbenchError(f"Cannot write the spec {path}: {error.strerror or error}") from None
    problems = specs.validate_spec(specs.load_spec(path))
    print(f"wrote {path}")
    if problems:
        print("fill in before training:\n" + "\n".join(f"  {problem}" for problem in problems))
    return 0


def fill_from_data(spec: dict, train: str, validation: str | None) -> dict:
    """The spec's data keys (columns, languages, …) and labels read from the files themselves."""
    from workbench.core.data.files import validation_sibling
    from workbench.core.data.loading import datasets_module
    from workbench.core.tasks import get_task
    from workbench.training.spec import task_default_metrics

    train_path = Path(train).expanduser().resolve()
    if validation:
        spec["data"]["validation_file"] = str(Path(validation).expanduser().resolve())
    else:
        sibling = validation_sibling(train_path)
        spec["data"]["validation_file"] = str(sibling) if sibling else ""
    spec["data"]["train_file"] = str(train_path)
    task = get_task(spec["model"]["head"])
    datasets_module()  # no progress bars: --init prints a spec, not the tokenization of the data
    raw = task.load_raw(spec["data"])
    spec["data"].update(task.guess_data(raw))
    spec["training"]["metrics"] = task_default_metrics(task.name, spec["data"])  # seq2seq: BLEU or ROUGE
    labels = task.head_labels(raw, spec)
    if labels is not None and labels.id2label:
        spec["model"]["num_labels"] = labels.num_labels
        spec["model"]["id2label"] = {str(index): name for index, name in labels.id2label.items()}
    return spec
