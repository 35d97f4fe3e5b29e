"""`HubClient`: the one small interface in front of the Hub, over huggingface_hub's `HfApi`.

Every method translates failures into `HubError` (see errors.py). The endpoint is always passed
to `HfApi`: huggingface_hub reads `HF_ENDPOINT` only once, at import.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from workbench.core.hub.errors import HubError, exists_error, no_token_error, offline_error, translate_errors
from workbench.core.hub.token import Account

DEFAULT_ENDPOINT = "https://huggingface.co"


def resolve_endpoint(explicit: str | None = None) -> str:
    """An explicit endpoint, else `HF_ENDPOINT`, else the settings' `hub_endpoint`."""
    if explicit:
        return explicit.rstrip("/")
    if os.environ.get("HF_ENDPOINT"):
        return os.environ["HF_ENDPOINT"].rstrip("/")
    from workbench.core.settings import load_settings

    return (load_settings().hub_endpoint or DEFAULT_ENDPOINT).rstrip("/")


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    oid: str  # git blob id for regular files
    lfs_sha256: str | None = None


@dataclass
class RemoteRepo:
    repo_id: str
    private: bool | None
    sha: str | None  # head of the branch, None when the branch does not exist yet
    branch_exists: bool
    files: dict[str, RemoteFile] = field(default_factory=dict)


@dataclass(frozen=True)
class CommitOutcome:
    commit_id: str
    commit_url: str
    pr_url: str | None


class HubClient:
    def __init__(self, endpoint: str | None = None, token: str | None = None) -> None:
        from huggingface_hub import HfApi

        self.endpoint = resolve_endpoint(endpoint)
        self._token = token
        # token=False would make huggingface_hub fall back to nothing; None would read the stored
        # token behind our back. We decide the token ourselves (token.find_token).
        self._api = HfApi(endpoint=self.endpoint, token=token if token else False, library_name="workbench")

    def __repr__(self) -> str:
        return f"HubClient(endpoint={self.endpoint!r}, token={'set' if self._token else 'none'})"

    @property
    def has_token(self) -> bool:
        return bool(self._token)

    def _errors(self, **context):
        return translate_errors(endpoint=self.endpoint, token=self._token, **context)

    def _require_online(self) -> None:
        from huggingface_hub import constants

        from workbench.core.hub.status import offline_by_environment

        if offline_by_environment() or constants.is_offline_mode():
            raise offline_error(self.endpoint)

    def _require_token(self) -> str:
        if not self._token:
            raise no_token_error()
        return self._token

    def check_ready(self) -> None:
        """Raise the offline or no-token error a push would meet, without a request."""
        self._require_online()
        self._require_token()

    # -- read ------------------------------------------------------------------
    def whoami(self) -> Account:
        self._require_online()
        token = self._require_token()
        with self._errors(action="check the token"):
            return Account.from_whoami(self._api.whoami(token=token))

    def remote_repo(self, repo_id: str, branch: str = "main", repo_type: str = "model") -> RemoteRepo | None:
        """The repository and its files on `branch`; None when the repository does not exist."""
        from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

        self._require_online()
        with self._errors(repo_id=repo_id, branch=branch, action="read the repository"):
            try:
                info = self._api.repo_info(repo_id, revision=branch, repo_type=repo_type)
            except RepositoryNotFoundError:
                return None
            except RevisionNotFoundError:
                # A new branch starts from main, so compare with main's files.
                main = self._api.repo_info(repo_id, repo_type=repo_type)
                return RemoteRepo(repo_id, main.private, None, False, self._files(repo_id, "main", repo_type))
            return RemoteRepo(repo_id, info.private, info.sha, True, self._files(repo_id, branch, repo_type))

    def _files(self, repo_id: str, revision: str, repo_type: str = "model") -> dict[str, RemoteFile]:
        from huggingface_hub.hf_api import RepoFile

        files = {}
        for entry in self._api.list_repo_tree(repo_id, revision=revision, recursive=True, repo_type=repo_type):
            if isinstance(entry, RepoFile):
                lfs = entry.lfs.sha256 if entry.lfs is not None else None
                files[entry.path] = RemoteFile(entry.path, entry.size, entry.blob_id, lfs)
        return files

    # -- write -----------------------------------------------------------------
    def create_repo(
        self, repo_id: str, *, private: bool, exist_ok: bool, repo_type: str = "model", space_sdk: str | None = None
    ) -> str:
        """Create a model repository, or a Space (repo_type="space", with its SDK, e.g. "gradio")."""
        from huggingface_hub.errors import HfHubHTTPError

        self._require_online()
        token = self._require_token()
        with self._errors(repo_id=repo_id, action="create the repository"):
            try:
                return str(
                    self._api.create_repo(
                        repo_id,
                        private=private,
                        exist_ok=exist_ok,
                        token=token,
                        repo_type=repo_type,
                        space_sdk=space_sdk if repo_type == "space" else None,
                    )
                )
            except HfHubHTTPError as error:
                if error.response is not None and error.response.status_code == 409:
                    raise exists_error(repo_id) from None
                raise

    def ensure_branch(self, repo_id: str, branch: str, repo_type: str = "model") -> None:
        with self._errors(repo_id=repo_id, branch=branch, action=f"create branch {branch!r}"):
            self._api.create_branch(
                repo_id, branch=branch, exist_ok=True, token=self._require_token(), repo_type=repo_type
            )

    def upload(
        self,
        repo_id: str,
        operations: list,
        *,
        message: str,
        description: str = "",
        branch: str = "main",
        create_pr: bool = False,
        on_file: Callable[[object], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        before_commit: Callable[[], None] | None = None,
        repo_type: str = "model",
    ) -> CommitOutcome:
        """Send `CommitOperationAdd`s one file at a time (progress, cancel between files), then commit.

        Files whose content already sits on the branch are dropped by huggingface_hub before the commit,
        and a commit with nothing left in it is not made (the branch head is returned instead).
        """
        token = self._require_token()
        revision = None if create_pr and branch == "main" else branch
        with self._errors(repo_id=repo_id, branch=branch, action="upload the files"):
            for operation in operations:
                if should_stop is not None and should_stop():
                    raise HubError("cancelled", "Push cancelled before the commit; nothing was committed.")
                self._api.preupload_lfs_files(
                    repo_id,
                    additions=[operation],
                    token=token,
                    revision=revision,
                    create_pr=create_pr,
                    free_memory=False,
                    repo_type=repo_type,
                )
                if on_file is not None:
                    on_file(operation)
            if should_stop is not None and should_stop():
                raise HubError("cancelled", "Push cancelled before the commit; nothing was committed.")
        if before_commit is not None:
            before_commit()
        with self._errors(repo_id=repo_id, branch=branch, action="create the commit"):
            info = self._api.create_commit(
                repo_id,
                operations,
                commit_message=message,
                commit_description=description,
                token=token,
                revision=revision,
                create_pr=create_pr,
                repo_type=repo_type,
            )
        return CommitOutcome(info.oid, info.commit_url, info.pr_url)

    # -- login -----------------------------------------------------------------
    def login(self) -> Account:
        """Validate the token here, then store it with huggingface_hub's own `login`."""
        from huggingface_hub import hf_api, login

        account = self.whoami()
        login_endpoint = hf_api.api.endpoint.rstrip("/")  # what huggingface_hub's login validates against
        if login_endpoint != self.endpoint:
            raise HubError(
                "invalid_input",
                f"huggingface_hub logs in to {login_endpoint}, not {self.endpoint}.",
                hint=f"Start workbench with HF_ENDPOINT={self.endpoint} to log in to this endpoint,"
                " or use HF_TOKEN for this session.",
            )
        with self._errors(action="store the token"):
            login(token=self._require_token(), add_to_git_credential=False, skip_if_logged_in=False)
        return account


def operations_for(files: Iterable[tuple[str, object]]) -> list:
    """CommitOperationAdd for (path_in_repo, local path or bytes) pairs."""
    from huggingface_hub import CommitOperationAdd

    return [CommitOperationAdd(path_in_repo=path, path_or_fileobj=source) for path, source in files]
