"""`workbench demo MODEL_OR_RUN [--port N] [--host H] [--share] [--export DIR]`: a Gradio demo of a model."""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="serve a Gradio demo of a model or a run's final model (--export DIR: a standalone Space app)",
    )
    parser.add_argument(
        "model", metavar="MODEL_OR_RUN", help="'embedded', a model folder, a Hub id, or a run (id, folder, 'latest')"
    )
    parser.add_argument("--port", type=int, default=None, help="port to listen on (default 7860, or a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--share", action="store_true", help="also ask Gradio for a public share link")
    parser.add_argument("--head", help="the task, when the checkpoint does not say (e.g. token-classification)")
    parser.add_argument("--labels", help='class names for a new classification head ("neg, pos")')
    parser.add_argument("--export", metavar="DIR", help="write app.py, requirements.txt and the model to DIR instead")
    parser.add_argument(
        "--one-process",
        action="store_true",
        help="load the model in this process (default: a child loads it while gradio imports, on another core)",
    )
    parser.add_argument(
        "--timings", action="store_true", help="print how long each start step took (imports, model, build, launch)"
    )
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from workbench.core.demo.startup import Timeline, process_start

    timeline = Timeline(process_start())  # from the process's start: Python and the CLI count too
    environment = dict(os.environ)  # before gradio's import adds variables: what a spare's must equal
    from workbench.core.demo import GradioMissing, require_gradio
    from workbench.core.demo.target import resolve_target

    if args.export:
        return run_export(args)
    timeline.mark("python+cli")
    try:
        if importlib.util.find_spec("gradio") is None:  # said before anything else is said or started
            require_gradio()  # GradioMissing, naming the install command
    except GradioMissing as error:
        print(f"workbench: {error.message}", file=sys.stderr)
        return 2
    from workbench.core.demo.app import DEFAULT_PORT, free_port
    from workbench.core.errors import WorkbenchError

    target = resolve_target(args.model, head=args.head)
    for note in target.notes:
        print(f"! {note}", file=sys.stderr)
    port = args.port
    if port is None:
        try:
            port = free_port(args.host, DEFAULT_PORT)
        except WorkbenchError:
            port = free_port(args.host)
    print(f"Loading {target.name} ({target.head})…", file=sys.stderr, flush=True)
    remote = None
    if not args.one_process:
        code = _serve_by_spare(args, target, port, environment, timeline)
        if code is not None:
            return code
        from workbench.core.demo.worker import RemoteAnswerer

        remote = RemoteAnswerer(target, args.labels)  # loads (and warms up) while gradio imports below
        timeline.mark("start model process")
    try:
        require_gradio(terminal=True)  # this process serves and never runs in a notebook
    except GradioMissing as error:
        if remote is not None:
            remote.close()
        print(f"workbench: {error.message}", file=sys.stderr)
        return 2
    timeline.mark("import gradio")
    from workbench.core.demo.app import build_app, serve

    if remote is not None:
        remote.wait_ready()
        timeline.mark("wait for model")
        for name, (wall, cpu) in remote.timings.items():
            timeline.add(f"{name} [child]", wall, cpu)
        demo = build_app(target, None, remote)
    else:
        demo = build_app(target, _load_warm(target, args.labels, timeline))
    timeline.mark("build")
    served = serve(demo, host=args.host, port=port, share=args.share)
    timeline.mark("launch")
    if args.timings:
        print(timeline.line(), file=sys.stderr, flush=True)
    _announce(target.name, served.url, served.port, args.host, getattr(demo, "share_url", None))
    if remote is not None:
        remote.start_next_spare()  # unless WORKBENCH_SPARE_RUN=0: the next demo starts with its imports done
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        served.close()
        if remote is not None:
            remote.close()
    return 0


def _announce(name: str, url: str, port: int, host: str, share_url: str | None) -> None:
    from workbench.core.demo.app import ssh_hint

    print(f"Demo of {name} at {url}", flush=True)
    if host in ("127.0.0.1", "localhost"):
        print(f"From another machine: {ssh_hint(port, host)}, then open {url}", flush=True)
    if share_url:
        print(f"Public link: {share_url}", flush=True)
    print("Ctrl-C stops it.", flush=True)


def _serve_by_spare(args, target, port: int, environment: dict, timeline) -> int | None:
    """The demo served by a spare started ahead (gradio, torch and transformers
    imported), stopped with this command; its exit code, or None when no spare took it (start as usual)."""
    from workbench.core.demo import spare

    if not spare.enabled(environment):
        return None
    request = {
        "target": target,
        "labels": args.labels,
        "host": args.host,
        "port": port,
        "share": args.share,
        "cwd": os.getcwd(),
    }
    taken = spare.take(request, environment)
    if taken is None:
        return None
    timeline.mark("take spare")
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a stop from outside ends the spare's demo too
    try:
        served = taken.wait_served()  # WorkbenchError: why it cannot serve, as without a spare
        if served is None:
            return None  # the spare vanished before serving: start as usual
        for name, wall, cpu in served["steps"]:
            timeline.add(name, wall, cpu)
        timeline.mark("spare serves")
        if args.timings:
            print(timeline.line(), file=sys.stderr, flush=True)
        _announce(target.name, served["url"], served["port"], args.host, served["share_url"])
        spare.start_next(environment)
        try:
            taken.wait()
        except KeyboardInterrupt:
            return 0
        print("workbench: The demo stopped: its process ended.", file=sys.stderr)
        return 1
    finally:
        taken.stop()  # the demo closed and the spare ended before this command ends
        signal.signal(signal.SIGTERM, previous)


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _load_warm(target, labels_text, timeline):
    """--one-process: the model loaded here, and answering once before the page is built."""
    from workbench.core.demo.answers import Answerer
    from workbench.core.demo.startup import MODEL_NOT_NEEDED, hidden_modules
    from workbench.core.demo.target import load_target

    with hidden_modules(MODEL_NOT_NEEDED):  # scipy, boto3: optional in transformers, unused by a demo
        loaded = load_target(target, labels_text)
    timeline.mark("model")
    Answerer(loaded).warm_up()
    timeline.mark("warm-up")
    return loaded


def run_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from workbench.core.demo.export import export_app
    from workbench.core.demo.target import load_target, resolve_target

    target = resolve_target(args.model, head=args.head)
    for note in target.notes:
        print(f"! {note}", file=sys.stderr)
    loaded = load_target(target, args.labels)
    folder = export_app(target, loaded, Path(args.export))
    print(f"Wrote {folder / 'app.py'}, requirements.txt and model/ ({target.head}).")
    print(f"Run it with `cd {folder} && pip install -r requirements.txt && python app.py`, or push it as a Space.")
    return 0
