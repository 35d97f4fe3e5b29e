"""`workbench push RUN_OR_FOLDER --repo ID`: publish a model (and its generated model card) to the Hub."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "push",
        help="upload a run's model or a model folder to the Hugging Face Hub, with a model card",
        description="Upload a run's final model (or any model folder) to the Hub with a generated model card."
        " The token comes from HF_TOKEN or the token stored by `hf auth login`; it is never printed.",
    )
    parser.add_argument("target", metavar="RUN_OR_FOLDER", help="a run id, a run folder or a model folder")
    parser.add_argument("--repo", metavar="ID", help="namespace/name (default: your user name / a name from the run)")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.add_argument("--branch", metavar="B", default="main", help="branch to push to (created when missing)")
    parser.add_argument("--create-pr", action="store_true", help="open a pull request instead of pushing to the branch")
    parser.add_argument("--message", "-m", metavar="TEXT", default=None, help="commit message")
    parser.add_argument("--include", action="append", metavar="PATTERN", help="only upload matching files (repeatable)")
    parser.add_argument("--exclude", action="append", metavar="PATTERN", help="also skip matching files (repeatable)")
    parser.add_argument("--card", metavar="FILE", help="use this README.md instead of the generated model card")
    parser.add_argument("--new-repo", action="store_true", help="fail if the repository already exists")
    parser.add_argument("--dry-run", action="store_true", help="show what would be uploaded and the card; send nothing")
    parser.add_argument(
        "--space",
        action="store_true",
        help="upload the model's Gradio demo (app.py, requirements.txt, model/) as a Space instead;"
        " RUN_OR_FOLDER may also be a folder written by `workbench demo --export`",
    )
    parser.add_argument("--endpoint", metavar="URL", help="Hub endpoint (default: HF_ENDPOINT or settings)")
    parser.add_argument("--json", action="store_true", help="print the result (or the error) as JSON")
    parser.set_defaults(handler=run)


# A dry run needs no network: when the Hub cannot be asked, it lists the local files and says so.
LOCAL_DRY_RUN_KINDS = ("offline", "network", "no_token")
UNKNOWN_USER = "<your-user-name>"


def _run_folder_or_target(target: str) -> str:
    """The run folder for a run id, a unique part of one or 'latest' (the resolver every command uses);
    a path to a folder is left to `resolve_source`."""
    from pathlib import Path

    from workbench.core.runs.folder import resolve_run, runs_dir

    if Path(target).expanduser().exists() or "/" in target or target.startswith((".", "~")):
        return target
    return str(resolve_run(target, runs_dir()))


def _local_dry_run(plan, unreachable, card_text: str, skipped: list[str], *, as_json: bool) -> int:
    from workbench.core.hub.files import human_size

    files = [{"path": f.path_in_repo, "size": f.size, "status": "local"} for f in plan.files()]
    note = f"Not checked against the Hub: {unreachable.message}"
    if as_json:
        record = {"ok": True, "dry_run": True, "offline": True, "repo_id": plan.repo_id, "user": None}
        record.update(files=files, skipped=skipped, problem=None, note=note, card=card_text)
        print(json.dumps(record, indent=2))
        return 0
    print(
        f"Would push {plan.folder} to {plan.repo_id} ({'private' if plan.private else 'public'}, branch {plan.branch})"
    )
    print(note)
    for item in files:
        print(f"  {item['status']:<9} {human_size(item['size']):>9}  {item['path']}")
    return 0


def run(args: argparse.Namespace) -> int:
    from workbench.core.errors import WorkbenchError
    from workbench.core.hub.errors import HubError

    try:
        return _run_space(args) if getattr(args, "space", False) else _run(args)
    except HubError as error:
        if args.json:
            print(json.dumps({"ok": False, "error": error.to_dict()}, indent=2))
            return 2
        raise
    except WorkbenchError as error:
        if args.json:
            print(
                json.dumps(
                    {"ok": False, "error": {"kind": "invalid_input", "message": error.message, "hint": error.hint}},
                    indent=2,
                )
            )
            return 2
        raise


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from workbench.core.hub.card import default_card
    from workbench.core.hub.client import HubClient
    from workbench.core.hub.errors import HubError
    from workbench.core.hub.files import DEFAULT_EXCLUDE, DEFAULT_INCLUDE
    from workbench.core.hub.push import (
        DEFAULT_COMMIT_MESSAGE,
        PushPlan,
        last_push,
        suggest_repo_name,
    )
    from workbench.core.hub.source import resolve_source
    from workbench.core.hub.token import find_token
    from workbench.core.settings import load_settings

    source = resolve_source(_run_folder_or_target(args.target), load_settings().runs_path)
    token = find_token()
    client = HubClient(args.endpoint, token.value)
    previous = last_push(source.run_dir)
    repo_id = args.repo or (previous["repo_id"] if previous else None)
    unreachable = None  # why a dry run could not ask the Hub (offline, no token, network)
    if not repo_id or "/" not in repo_id:
        name = repo_id or suggest_repo_name(source)
        try:
            repo_id = f"{client.whoami().name}/{name}"
        except HubError as error:
            if not (args.dry_run and error.kind in LOCAL_DRY_RUN_KINDS):
                raise
            unreachable, repo_id = error, f"{UNKNOWN_USER}/{name}"
    if args.card:
        try:
            card_text = Path(args.card).read_text(encoding="utf-8")
        except OSError as error:
            raise HubError(
                "invalid_input", f"Cannot read the model card {args.card}: {error.strerror or error}"
            ) from None
        except UnicodeDecodeError as error:
            raise HubError(
                "invalid_input",
                f"Cannot read the model card {args.card}: not UTF-8 text (byte 0x{error.object[error.start]:02x}"
                f" at offset {error.start})",
            ) from None
    else:
        card_text = default_card(source, repo_id)
    default_message = f"Upload {source.run_id} with workbench" if source.run_id else DEFAULT_COMMIT_MESSAGE
    plan = PushPlan(
        folder=source.folder,
        repo_id=repo_id,
        private=args.private,
        branch=args.branch or "main",
        create_pr=args.create_pr,
        commit_message=args.message or default_message,
        include=args.include or list(DEFAULT_INCLUDE),
        exclude=list(DEFAULT_EXCLUDE) + (args.exclude or []),
        card_text=card_text,
        allow_existing=not args.new_repo,
    )
    return _send(args, plan, client, token, unreachable, card_text, source.note, source.run_dir)


def _run_space(args: argparse.Namespace) -> int:
    """`--space`: export the demo of a run or model (or take an exported folder) and push it as a Space."""
    import shutil
    from pathlib import Path

    from workbench.core.errors import WorkbenchError
    from workbench.core.hub.client import HubClient
    from workbench.core.hub.errors import HubError
    from workbench.core.hub.files import DEFAULT_EXCLUDE, DEFAULT_INCLUDE
    from workbench.core.hub.push import last_push, suggest_repo_name
    from workbench.core.hub.source import resolve_source
    from workbench.core.hub.space import is_space_folder, space_from_run, space_plan, suggest_space_name
    from workbench.core.hub.token import find_token
    from workbench.core.settings import load_settings

    log = (lambda text: None) if args.json else (lambda text: print(text, file=sys.stderr))
    token = find_token()
    client = HubClient(args.endpoint, token.value)
    if not args.dry_run:
        client.check_ready()  # offline or no token: say so before loading the model
    target = _run_folder_or_target(args.target)
    run_dir, made = None, None
    if is_space_folder(target):
        folder = Path(target).expanduser()
        name = suggest_space_name(folder.resolve().name)
    else:
        try:
            source = resolve_source(target, load_settings().runs_path)
            run_dir, name = source.run_dir, suggest_space_name(suggest_repo_name(source))
        except WorkbenchError:  # 'embedded' or a Hub id: the demo resolves those itself
            name = suggest_space_name(Path(target).name.replace(":", "-"))
        log(f"Exporting the demo of {args.target}…")
        folder = made = space_from_run(target, on_note=lambda note: log(f"! {note}"))
    try:
        previous = last_push(run_dir, repo_type="space")
        repo_id = args.repo or (previous["repo_id"] if previous else None) or name
        unreachable = None
        if "/" not in repo_id:
            try:
                repo_id = f"{client.whoami().name}/{repo_id}"
            except HubError as error:
                if not (args.dry_run and error.kind in LOCAL_DRY_RUN_KINDS):
                    raise
                unreachable, repo_id = error, f"{UNKNOWN_USER}/{repo_id}"
        options = {}
        if args.card:
            options["card_text"] = _read_card(args.card)
        plan = space_plan(
            folder,
            repo_id,
            private=args.private,
            branch=args.branch or "main",
            create_pr=args.create_pr,
            include=args.include or list(DEFAULT_INCLUDE),
            exclude=list(DEFAULT_EXCLUDE) + (args.exclude or []),
            allow_existing=not args.new_repo,
            **({"commit_message": args.message} if args.message else {}),
            **options,
        )
        return _send(args, plan, client, token, unreachable, plan.card_text, "", run_dir)
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def _read_card(path: str) -> str:
    from pathlib import Path

    from workbench.core.hub.errors import HubError

    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise HubError("invalid_input", f"Cannot read the model card {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise HubError(
            "invalid_input",
            f"Cannot read the model card {path}: not UTF-8 text (byte 0x{error.object[error.start]:02x}"
            f" at offset {error.start})",
        ) from None


def _send(args, plan, client, token, unreachable, card_text: str, note: str, run_dir) -> int:
    """Validate, then dry-run (list the files) or push `plan`, and print the outcome."""
    from workbench.core.hub.card import check_card
    from workbench.core.hub.errors import HubError
    from workbench.core.hub.files import human_size
    from workbench.core.hub.push import preflight, push, record_push, validate_plan

    repo_id = plan.repo_id
    if not repo_id.startswith(UNKNOWN_USER):
        validate_plan(plan)  # a bad repository id is the one line printed, before any card warning
    if not args.dry_run:
        client.check_ready()  # offline or no token: that one message, before any warning or progress line
    log = (lambda text: None) if args.json else (lambda text: print(text, file=sys.stderr))
    if note:
        log(note)
    for warning in check_card(card_text).warnings if plan.repo_type == "model" else []:
        log(f"model card: {warning}")
    skipped = [link.describe() for link in plan.skipped()]
    for item in skipped:
        log(f"not uploaded: {item}")

    if args.dry_run and unreachable is None:
        try:
            check = preflight(plan, client)
        except HubError as error:
            if error.kind not in LOCAL_DRY_RUN_KINDS:
                raise
            unreachable = error
    if args.dry_run and unreachable is not None:
        return _local_dry_run(plan, unreachable, card_text, skipped, as_json=args.json)
    if args.dry_run:
        files = [{"path": f.path_in_repo, "size": f.size, "status": f.status} for f in check.files]
        problem = check.problem.to_dict() if check.problem else None
        if args.json:
            print(
                json.dumps(
                    {
                        "ok": problem is None,
                        "dry_run": True,
                        "repo_id": repo_id,
                        "user": check.account.name,
                        "token_source": token.label,
                        "files": files,
                        "skipped": skipped,
                        "problem": problem,
                        "card": card_text,
                    },
                    indent=2,
                )
            )
        else:
            visibility = "private" if plan.private else "public"
            kind = " as a Space" if plan.repo_type == "space" else ""
            print(f"Would push {plan.folder} to {repo_id}{kind} ({visibility}, branch {plan.branch})")
            print(f"as {check.account.describe()}, token from {token.label}")
            for item in files:
                print(f"  {item['status']:<9} {human_size(item['size']):>9}  {item['path']}")
            if problem:
                print(f"Problem: {problem['message']}\n{problem['hint'] or ''}".rstrip())
        return 0 if problem is None else 2

    def show(progress) -> None:
        if progress.stage == "uploading" and progress.files_total:
            log(
                f"[{progress.files_done}/{progress.files_total}] {progress.current or 'preparing'}"
                f" ({human_size(progress.bytes_done)} of {human_size(progress.bytes_total)})"
            )
        else:
            log(f"{progress.stage}…")

    from huggingface_hub.utils import logging as hub_logging

    hub_logging.set_verbosity_error()  # we report skipped files ourselves
    result = push(plan, client, on_progress=show)
    record_push(run_dir, result)
    if args.json:
        print(json.dumps({"ok": True, **result.to_dict(), "skipped": skipped}, indent=2))
        return 0
    if result.nothing_changed:
        print(
            f"Nothing to push: all {len(result.unchanged)} files are already on {repo_id}@{result.branch}"
            " (no empty commit made)."
        )
    else:
        print(
            f"Pushed {len(result.uploaded)} file(s) to {result.repo_url}"
            + (" (new repository)" if result.created_repo else "")
        )
        if result.unchanged:
            print(f"{len(result.unchanged)} unchanged file(s) skipped.")
    print(f"Commit: {result.commit_id}  {result.commit_url}")
    if result.pr_url:
        print(f"Pull request: {result.pr_url}")
    return 0
