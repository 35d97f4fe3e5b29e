"""Push a model folder to the Hub: plan, preflight checks, then upload with progress and cancel.

    plan = PushPlan(folder=..., repo_id="alice/my-model", card_text=...)
    client = HubClient(endpoint, token)
    result = push(plan, client, on_progress=print, should_stop=event.is_set)

Everything that can be checked before sending bytes is checked first (card, token role,
namespace, repository exists), so a read-only token or a bad card never gets half-way.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workbench.core.hub.card import check_card
from workbench.core.hub.client import HubClient, RemoteRepo, operations_for
from workbench.core.hub.errors import HubError, exists_error
from workbench.core.hub.files import (
    DEFAULT_EXCLUDE,
    DEFAULT_INCLUDE,
    LocalFile,
    SkippedLink,
    list_files,
    mark_remote_status,
    scan_folder,
    with_card,
)
from workbench.core.hub.token import Account
from workbench.core.models.weights import safetensors_problem

DEFAULT_COMMIT_MESSAGE = "Upload model with workbench"
PUSH_RECORD = "hub_pushes.jsonl"  # in a run folder: where its model was pushed (never the token)
REPO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")


@dataclass
class PushPlan:
    folder: Path
    repo_id: str
    private: bool = False
    branch: str = "main"
    create_pr: bool = False
    commit_message: str = DEFAULT_COMMIT_MESSAGE
    commit_description: str = ""
    include: list[str] = field(default_factory=lambda: list(DEFAULT_INCLUDE))
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    card_text: str | None = None  # None: upload the folder's own README.md, if any
    allow_existing: bool = False  # push into a repository that already exists
    repo_type: str = "model"  # or "space": a demo app (see space.py)
    space_sdk: str | None = None  # a Space's SDK ("gradio"), sent when the Space is created

    def files(self) -> list[LocalFile]:
        return with_card(list_files(self.folder, self.include, self.exclude), self.card_text)

    def skipped(self) -> list[SkippedLink]:
        """Links in the folder that are not uploaded (broken, to a folder, or pointing outside it)."""
        links = scan_folder(self.folder, self.include, self.exclude)[1]
        return [link for link in links if self.card_text is None or link.path_in_repo != "README.md"]


@dataclass
class PushProgress:
    stage: str  # "checking", "creating", "uploading", "committing"
    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    current: str = ""

    @property
    def fraction(self) -> float:
        return self.bytes_done / self.bytes_total if self.bytes_total else 0.0


@dataclass
class PushResult:
    repo_id: str
    repo_url: str
    commit_id: str
    commit_url: str
    branch: str
    pr_url: str | None = None
    created_repo: bool = False
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    repo_type: str = "model"

    @property
    def nothing_changed(self) -> bool:
        return not self.uploaded

    def to_dict(self) -> dict:
        return {**asdict(self), "nothing_changed": self.nothing_changed}


@dataclass
class Preflight:
    account: Account
    remote: RemoteRepo | None
    files: list[LocalFile]
    problem: HubError | None = None  # what would stop the push (None: ready)


def suggest_repo_name(source) -> str:
    """A valid repository name from a `PushSource`: "<base model>-<data>" for a run, else the folder name."""
    name = source.folder.name if source.folder.name not in ("final", "") else (source.run_id or "model")
    if source.run_dir is not None:
        model = (source.spec.get("model") or {}).get("name_or_path") or source.summary.get("model") or ""
        data = source.spec.get("data") or {}
        dataset = str(data.get("dataset") or data.get("train_file") or source.summary.get("dataset") or "")
        model_short = Path(str(model)).name if model and "embedded" not in str(model).lower() else "all-MiniLM-L6-v2"
        data_short = Path(dataset).parent.name if "." in Path(dataset).name else Path(dataset).name
        name = "-".join(part for part in (model_short, data_short) if part) or name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._") or "model"
    return name[:96]


def validate_plan(plan: PushPlan) -> None:
    """Form-level checks; raise HubError(kind="invalid_input"/"invalid_card") naming the field."""
    parts = plan.repo_id.split("/")
    if len(parts) != 2 or not all(REPO_NAME.fullmatch(p) for p in parts) or ".." in plan.repo_id:
        raise HubError(
            "invalid_input",
            f"Repository id {plan.repo_id!r} is not valid.",
            hint="Use namespace/name with letters, digits, '-', '_' or '.', e.g. alice/bert-mrpc.",
        )
    if not plan.commit_message.strip():
        raise HubError("invalid_input", "The commit message is empty.", hint="Describe what this upload contains.")
    if plan.create_pr and plan.branch not in ("", "main"):
        raise HubError(
            "invalid_input", "A pull request is opened against main.", hint="Clear the branch, or untick pull request."
        )
    if plan.branch and not re.fullmatch(r"[A-Za-z0-9][\w./-]*", plan.branch):
        raise HubError("invalid_input", f"Branch {plan.branch!r} is not a valid branch name.")
    if not Path(plan.folder).is_dir():
        raise HubError("invalid_input", f"Folder {plan.folder} does not exist.")
    for weights in sorted(Path(plan.folder).glob("*.safetensors")):  # a copy cut short would upload as it is
        problem = safetensors_problem(weights)
        if problem is not None:
            raise HubError(
                "invalid_input",
                f"{problem}: the upload would put a model on the Hub that cannot be loaded.",
                hint="Save the model again (save_pretrained, or the run's final/), then push.",
            )
    if plan.card_text is not None and plan.repo_type == "model":  # a Space's README is no model card
        check = check_card(plan.card_text)
        if not check.ok:
            raise HubError(
                "invalid_card",
                "The model card has problems:\n- " + "\n- ".join(check.errors),
                hint="Edit the model card and push again.",
            )


def permission_problem(account: Account, plan: PushPlan) -> HubError | None:
    namespace = plan.repo_id.split("/")[0]
    name = plan.repo_id.split("/")[-1]
    problem = account.write_problem(namespace, plan.create_pr)
    if problem == "read_only":
        return HubError(
            "read_only",
            f"The token “{account.token_name or 'current'}” of {account.name} is read-only: it cannot upload.",
            hint="Create a token with write access at https://huggingface.co/settings/tokens and log in with it.",
            status=403,
        )
    if problem == "forbidden":
        return HubError(
            "forbidden",
            f"{account.name} cannot write to the namespace {namespace!r}.",
            hint="Open a pull request on an existing repository there (Open as pull request / --create-pr),"
            f" or push to {account.name}/{name}"
            + (
                f" or one of your organisations ({', '.join(account.namespaces[1:])})."
                if len(account.namespaces) > 1
                else "."
            ),
            status=403,
        )
    return None


def preflight(plan: PushPlan, client: HubClient) -> Preflight:
    """Everything the dialog shows before pushing: who, where, which files change. Sends nothing."""
    validate_plan(plan)
    account = client.whoami()
    files = plan.files()
    remote = client.remote_repo(plan.repo_id, plan.branch or "main", repo_type=plan.repo_type)
    mark_remote_status(files, remote.files if remote else None)
    problem = permission_problem(account, plan)
    if problem is None and remote is None and plan.create_pr:
        problem = HubError(
            "not_found",
            f"Repository {plan.repo_id} does not exist, so no pull request can be opened.",
            hint="Untick pull request to create the repository.",
            status=404,
        )
    if problem is None and remote is not None and not plan.allow_existing and not plan.create_pr:
        problem = exists_error(plan.repo_id)
    return Preflight(account, remote, files, problem)


def push(
    plan: PushPlan,
    client: HubClient,
    on_progress: Callable[[PushProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> PushResult:
    report = on_progress or (lambda progress: None)
    branch = plan.branch or "main"
    report(PushProgress("checking"))
    check = preflight(plan, client)
    if check.problem is not None:
        raise check.problem
    files = check.files
    if not files:
        raise HubError("invalid_input", f"No files to upload from {plan.folder} with these include/exclude patterns.")
    created = False
    prefix = "" if plan.repo_type == "model" else f"{plan.repo_type}s/"
    repo_url = f"{client.endpoint}/{prefix}{plan.repo_id}"
    if check.remote is None:
        report(PushProgress("creating", current=plan.repo_id))
        repo_url = client.create_repo(
            plan.repo_id, private=plan.private, exist_ok=False, repo_type=plan.repo_type, space_sdk=plan.space_sdk
        )
        created = True
    if (created or not check.remote.branch_exists) and branch != "main" and not plan.create_pr:
        client.ensure_branch(plan.repo_id, branch, repo_type=plan.repo_type)

    operations = operations_for((f.path_in_repo, f.source) for f in files)
    sizes = {f.path_in_repo: f.size for f in files}
    progress = PushProgress("uploading", 0, len(files), 0, sum(sizes.values()))
    report(progress)

    def file_sent(operation) -> None:
        progress.files_done += 1
        progress.bytes_done += sizes[operation.path_in_repo]
        progress.current = operation.path_in_repo
        report(PushProgress(**asdict(progress)))

    def stop_requested() -> bool:
        return bool(should_stop and should_stop())

    outcome = client.upload(
        plan.repo_id,
        operations,
        message=plan.commit_message.strip(),
        description=plan.commit_description,
        branch=branch,
        create_pr=plan.create_pr,
        on_file=file_sent,
        should_stop=stop_requested,
        before_commit=lambda: report(
            PushProgress("committing", len(files), len(files), progress.bytes_total, progress.bytes_total)
        ),
        repo_type=plan.repo_type,
    )
    changed = [f.path_in_repo for f in files if f.status != "unchanged"]
    return PushResult(
        repo_id=plan.repo_id,
        repo_url=repo_url,
        commit_id=outcome.commit_id,
        commit_url=outcome.commit_url,
        branch=branch,
        pr_url=outcome.pr_url if changed else None,
        created_repo=created,
        uploaded=changed,
        unchanged=[f.path_in_repo for f in files if f.status == "unchanged"],
        repo_type=plan.repo_type,
    )


def record_push(run_dir: Path | None, result: PushResult) -> None:
    """Remember in the run folder where its model went, so the next push defaults to the same repository."""
    if run_dir is None:
        return
    record = {
        "time": time.time(),
        "repo_id": result.repo_id,
        "branch": result.branch,
        "commit_id": result.commit_id,
        "commit_url": result.commit_url,
        "repo_url": result.repo_url,
        "pr_url": result.pr_url,
        "uploaded": len(result.uploaded),
        "repo_type": result.repo_type,
    }
    try:
        with open(Path(run_dir) / PUSH_RECORD, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    except OSError:
        pass  # a read-only run folder must not turn a successful push into a failure


def last_push(run_dir: Path | None, repo_type: str = "model") -> dict | None:
    """The newest record of a `repo_type` push written by `record_push`, if any (bad lines are skipped)."""
    if run_dir is None:
        return None
    try:
        lines = (Path(run_dir) / PUSH_RECORD).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("repo_id"), str):
            if record.get("repo_type", "model") == repo_type:
                return record
    return None
