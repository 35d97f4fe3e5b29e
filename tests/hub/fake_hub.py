"""A small, in-memory, Hub-compatible HTTP server for tests (standard library only).

It speaks the subset of the Hugging Face Hub API that `huggingface_hub` 2.x uses to push a
model: whoami, repo creation, README metadata validation, preupload, NDJSON commits, branches,
repo info, tree listing and `resolve` downloads. Files are stored inline ("regular" upload
mode), so neither LFS nor Xet storage is ever involved.

Shapes follow what the installed client sends and reads (see `huggingface_hub/_commit_api.py`,
`hf_api.py`, `utils/_http.py`):
- errors carry `X-Error-Code` (RepoNotFound, RevisionNotFound, EntryNotFound) and a JSON body
  with "error", so the client raises its typed errors;
- a 409 from /api/repos/create still carries "url" (the client reads it with exist_ok=True);
- request bodies are always read, even when answering an error, because the client reuses
  connections (HTTP/1.1 keep-alive).

Test hooks: `fail_next(kind, status, ...)` makes the next request of a kind fail, and
`drop_next("commit")` closes the connection without answering (a network failure mid-upload).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WRITE_TOKEN = "hf_fakeWriteTokenAAAAAAAAAAAAAAAAAAAAAA"
READ_TOKEN = "hf_fakeReadTokenBBBBBBBBBBBBBBBBBBBBBBBB"
USER = "alice"
ORG = "wb-org"
READONLY_ORG = "big-lab"  # alice is a "read" member: she may open pull requests there, not push
REGULAR_LIMIT = 10 * 1024 * 1024
KNOWN_LICENSES = {
    "apache-2.0",
    "mit",
    "cc-by-4.0",
    "cc-by-sa-4.0",
    "bsd-3-clause",
    "gpl-3.0",
    "openrail",
    "other",
    "unknown",
}

ACCOUNTS = {
    WRITE_TOKEN: {"role": "write", "displayName": "workbench-write"},
    READ_TOKEN: {"role": "read", "displayName": "workbench-read"},
}


def git_blob_oid(content: bytes) -> str:
    """The git object id of a blob, which the client compares with `oid` from /preupload."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class Commit:
    oid: str
    message: str
    files: dict[str, bytes]
    parent: str | None


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    branches: dict[str, list[Commit]] = field(default_factory=dict)
    pull_requests: list[str] = field(default_factory=list)
    sdk: str | None = None  # a Space's SDK, given on creation

    def head(self, revision: str) -> Commit | None:
        commits = self.branches.get(revision)
        if commits:
            return commits[-1]
        for history in self.branches.values():  # a commit id works as a revision too
            for commit in history:
                if commit.oid == revision:
                    return commit
        return None

    def commit_count(self, revision: str = "main") -> int:
        return len(self.branches.get(revision, []))


@dataclass
class Reply:
    status: int
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


class FakeHub:
    """The server and its state. `with FakeHub() as hub:` starts it on 127.0.0.1 (a free port)."""

    def __init__(self) -> None:
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) in arrival order
        self.bodies: list[tuple[str, bytes, dict[str, str]]] = []  # (path, body, lower-cased headers)
        self._failures: dict[str, list[Reply]] = {}
        self._drops: set[str] = set()
        self.delays: dict[str, float] = {}  # kind -> seconds to wait before answering
        self._lock = threading.RLock()
        self._counter = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "FakeHub is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            fake = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- test hooks ------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.repos.clear()
            self.requests.clear()
            self.bodies.clear()
            self._failures.clear()
            self._drops.clear()
            self.delays.clear()
            self._counter = 0  # commit ids repeat from test to test (stable snapshots)

    def fail_next(self, kind: str, status: int, message: str = "", error_code: str | None = None) -> None:
        """The next request of `kind` (whoami, create, validate, preupload, commit, info, tree, branch) fails."""
        headers = {"X-Error-Code": error_code} if error_code else {}
        if message:
            headers["X-Error-Message"] = message
        with self._lock:
            self._failures.setdefault(kind, []).append(Reply(status, {"error": message or "failure"}, headers))

    def drop_next(self, kind: str) -> None:
        """The next request of `kind` is read fully, then the connection closes with no reply."""
        with self._lock:
            self._drops.add(kind)

    def add_repo(
        self, repo_id: str, files: dict[str, bytes] | None = None, private: bool = False, repo_type: str = "model"
    ) -> Repo:
        with self._lock:
            repo = Repo(repo_type, repo_id, private, sdk="gradio" if repo_type == "space" else None)
            repo.branches["main"] = [self._new_commit("initial commit", dict(files or {}), None)]
            self.repos[(repo_type, repo_id)] = repo
            return repo

    def repo(self, repo_id: str, repo_type: str = "model") -> Repo:
        return self.repos[(repo_type, repo_id)]

    def file(self, repo_id: str, path: str, revision: str = "main", repo_type: str = "model") -> bytes:
        head = self.repo(repo_id, repo_type).head(revision)
        assert head is not None
        return head.files[path]

    def count(self, method: str, path_pattern: str) -> int:
        return sum(1 for m, p in self.requests if m == method and re.search(path_pattern, p))

    # -- state helpers (called with the lock held) -----------------------------
    def _new_commit(self, message: str, files: dict[str, bytes], parent: str | None) -> Commit:
        self._counter += 1
        oid = hashlib.sha1(f"{self._counter}:{message}:{parent}".encode()).hexdigest()
        return Commit(oid, message, files, parent)

    def _take_failure(self, kind: str) -> Reply | None:
        with self._lock:
            queue = self._failures.get(kind)
            return queue.pop(0) if queue else None

    def _take_drop(self, kind: str) -> bool:
        with self._lock:
            if kind in self._drops:
                self._drops.discard(kind)
                return True
            return False


def _url_prefix(repo: Repo) -> str:
    return "" if repo.repo_type == "model" else f"{repo.repo_type}s/"


def _error(status: int, message: str, code: str | None = None) -> Reply:
    headers = {"X-Error-Message": message}
    if code:
        headers["X-Error-Code"] = code
    return Reply(status, {"error": message}, headers)


_REPO = r"/api/(?P<type>model|dataset|space)s/(?P<repo>[^/]+/[^/]+)"
ROUTES: list[tuple[str, str, str]] = [
    ("GET", r"/api/whoami-v2", "whoami"),
    ("POST", r"/api/repos/create", "create"),
    ("POST", r"/api/validate-yaml", "validate"),
    ("POST", _REPO + r"/preupload/(?P<rev>[^/]+)", "preupload"),
    ("POST", _REPO + r"/commit/(?P<rev>[^/]+)", "commit"),
    ("POST", _REPO + r"/branch/(?P<rev>[^/]+)", "branch"),
    ("GET", _REPO + r"/tree/(?P<rev>[^/]+)(?P<path>/.*)?", "tree"),
    ("GET", _REPO + r"/revision/(?P<rev>[^/]+)", "info"),
    ("GET", _REPO, "info"),
    ("GET", r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)", "resolve"),
    ("HEAD", r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)", "resolve"),
]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client expects
    fake: FakeHub

    def log_message(self, format: str, *args) -> None:  # keep test output quiet
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # -- plumbing --------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _dispatch(self, method: str) -> None:
        body = self._read_body()  # always, even for errors: the connection is reused
        parsed = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(parsed.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        hub = self.fake
        with hub._lock:
            hub.requests.append((method, path))
            hub.bodies.append((path, body, {key.lower(): value for key, value in self.headers.items()}))
        for route_method, pattern, kind in ROUTES:
            match = re.fullmatch(pattern, path)
            if route_method != method or match is None:
                continue
            if kind in hub.delays:
                time.sleep(hub.delays[kind])
            if hub._take_drop(kind):
                self.close_connection = True
                self.connection.shutdown(2)
                return
            reply = hub._take_failure(kind) or getattr(self, f"_{kind}")(match.groupdict(), query, body)
            self._send(method, reply)
            return
        self._send(method, _error(404, f"No route for {method} {path}"))

    def _send(self, method: str, reply: Reply) -> None:
        if reply.raw is not None:
            payload = reply.raw
            content_type = "application/octet-stream"
        else:
            payload = json.dumps(reply.body if reply.body is not None else {}).encode()
            content_type = "application/json"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(payload)

    def _base(self) -> str:
        """The URL the client used (a proxied test endpoint such as http://hub.test keeps its name)."""
        host = self.headers.get("Host")
        return f"http://{host}" if host else self.fake.url

    # -- auth ------------------------------------------------------------------
    def _token(self) -> str | None:
        header = self.headers.get("Authorization", "")
        return header[len("Bearer ") :] if header.startswith("Bearer ") else None

    def _account(self) -> tuple[dict | None, Reply | None]:
        token = self._token()
        if token is None:
            return None, None
        if token not in ACCOUNTS:
            return None, _error(401, "Invalid credentials in Authorization header")
        return ACCOUNTS[token], None

    def _can_read(self, repo: Repo) -> bool:
        account, _ = self._account()
        return not repo.private or (account is not None and repo.repo_id.split("/")[0] in (USER, ORG, READONLY_ORG))

    def _write_denied(self, namespace: str, *, pull_request: bool = False) -> Reply | None:
        """None when the caller may write to `namespace`, else the reply the Hub gives."""
        account, error = self._account()
        if error is not None:
            return error
        if account is None:
            return _error(401, "You must be authenticated to access this resource")
        if account["role"] != "write":
            return _error(403, "You don't have the rights to write with a read token")
        if namespace in (USER, ORG) or pull_request:
            return None
        return _error(403, f"You don't have the rights to write to {namespace}")

    def _find(self, params: dict) -> tuple[Repo | None, Reply | None]:
        repo = self.fake.repos.get((params["type"], params["repo"]))
        if repo is None or not self._can_read(repo):
            return None, _error(404, "Repository not found", "RepoNotFound")
        return repo, None

    # -- endpoints -------------------------------------------------------------
    def _whoami(self, params: dict, query: dict, body: bytes) -> Reply:
        account, error = self._account()
        if error is not None or account is None:
            return error or _error(401, "Invalid credentials in Authorization header")
        return Reply(
            200,
            {
                "type": "user",
                "name": USER,
                "fullname": "Alice Example",
                "email": "alice@example.test",
                "orgs": [
                    {"type": "org", "name": ORG, "fullname": "Workbench Org", "roleInOrg": "write"},
                    {"type": "org", "name": READONLY_ORG, "fullname": "Big Lab", "roleInOrg": "read"},
                ],
                "auth": {
                    "type": "access_token",
                    "accessToken": {"displayName": account["displayName"], "role": account["role"]},
                },
            },
        )

    def _create(self, params: dict, query: dict, body: bytes) -> Reply:
        payload = json.loads(body or b"{}")
        namespace = payload.get("organization") or USER
        repo_type = payload.get("type") or "model"
        repo_id = f"{namespace}/{payload['name']}"
        url = f"{self._base()}/{repo_id}" if repo_type == "model" else f"{self._base()}/{repo_type}s/{repo_id}"
        denied = self._write_denied(namespace)
        if denied is not None:
            return denied
        if repo_type == "space" and payload.get("sdk") not in ("gradio", "docker", "static"):
            return _error(400, "A Space needs an sdk (gradio, docker or static)")
        with self.fake._lock:
            if (repo_type, repo_id) in self.fake.repos:
                return Reply(
                    409,
                    {"error": "You already created this model repo", "url": url},
                    {"X-Error-Message": "You already created this model repo"},
                )
            private = payload.get("visibility") == "private" or bool(payload.get("private"))
            repo = Repo(repo_type, repo_id, private, sdk=payload.get("sdk"))
            repo.branches["main"] = [
                self.fake._new_commit("initial commit", {".gitattributes": b"*.bin filter=lfs\n"}, None)
            ]
            self.fake.repos[(repo_type, repo_id)] = repo
        return Reply(200, {"url": url, "name": repo_id, "id": repo_id})

    def _validate(self, params: dict, query: dict, body: bytes) -> Reply:
        content = json.loads(body or b"{}").get("content", "")
        errors = validate_card_metadata(content)
        if errors:
            return Reply(400, {"errors": [{"message": message} for message in errors], "warnings": []})
        return Reply(200, {"errors": [], "warnings": []})

    def _preupload(self, params: dict, query: dict, body: bytes) -> Reply:
        repo, error = self._find(params)
        if error is not None:
            return error
        pull_request = query.get("create_pr") == "1"
        denied = self._write_denied(repo.repo_id.split("/")[0], pull_request=pull_request)
        if denied is not None:
            return denied
        head = repo.head(params["rev"])
        if head is None:
            return _error(404, f"Invalid rev id: {params['rev']}", "RevisionNotFound")
        files = []
        for item in json.loads(body)["files"]:
            existing = head.files.get(item["path"])
            files.append(
                {
                    "path": item["path"],
                    "uploadMode": "regular" if item["size"] < REGULAR_LIMIT else "lfs",
                    "shouldIgnore": False,
                    "oid": git_blob_oid(existing) if existing is not None else None,
                }
            )
        return Reply(200, {"files": files, "commitOid": head.oid})

    def _commit(self, params: dict, query: dict, body: bytes) -> Reply:
        repo, error = self._find(params)
        if error is not None:
            return error
        pull_request = query.get("create_pr") == "1"
        denied = self._write_denied(repo.repo_id.split("/")[0], pull_request=pull_request)
        if denied is not None:
            return denied
        if "x-ndjson" not in self.headers.get("Content-Type", ""):
            return _error(400, "Expected an application/x-ndjson body")
        revision = params["rev"]
        head = repo.head(revision)
        if head is None:
            return _error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            return _error(400, "The first NDJSON line must be the commit header")
        header = lines[0]["value"]
        files = dict(head.files)
        for line in lines[1:]:
            value = line["value"]
            if line["key"] == "file":
                if value.get("encoding") != "base64":
                    return _error(400, "file lines must be base64")
                files[value["path"]] = base64.b64decode(value["content"])
            elif line["key"] == "deletedFile":
                files.pop(value["path"], None)
            else:
                return _error(400, f"This test server stores regular files only, not {line['key']!r}")
        with self.fake._lock:
            commit = self.fake._new_commit(header["summary"], files, head.oid)
            if pull_request:
                number = len(repo.pull_requests) + 1
                ref = f"refs/pr/{number}"
                repo.pull_requests.append(ref)
                repo.branches[ref] = [commit]
                pr_url = f"{self._base()}/{_url_prefix(repo)}{repo.repo_id}/discussions/{number}"
            else:
                repo.branches[revision].append(commit)
                pr_url = None
        return Reply(
            200,
            {
                "success": True,
                "commitOid": commit.oid,
                "commitUrl": f"{self._base()}/{_url_prefix(repo)}{repo.repo_id}/commit/{commit.oid}",
                "pullRequestUrl": pr_url,
                "hookOutput": "",
            },
        )

    def _branch(self, params: dict, query: dict, body: bytes) -> Reply:
        repo, error = self._find(params)
        if error is not None:
            return error
        denied = self._write_denied(repo.repo_id.split("/")[0])
        if denied is not None:
            return denied
        branch = params["rev"]
        if branch in repo.branches:
            return _error(409, f"Reference already exists: {branch}")
        start = json.loads(body or b"{}").get("startingPoint") or "main"
        base = repo.head(start)
        if base is None:
            return _error(404, f"Invalid rev id: {start}", "RevisionNotFound")
        repo.branches[branch] = [base]
        return Reply(200, {})

    def _info(self, params: dict, query: dict, body: bytes) -> Reply:
        repo, error = self._find(params)
        if error is not None:
            return error
        revision = params.get("rev") or "main"
        head = repo.head(revision)
        if head is None:
            return _error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return Reply(
            200,
            {
                "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24],
                "id": repo.repo_id,
                "modelId": repo.repo_id,
                "author": repo.repo_id.split("/")[0],
                "sha": head.oid,
                "private": repo.private,
                "disabled": False,
                "gated": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "siblings": [{"rfilename": name} for name in sorted(head.files)],
                "createdAt": "2026-01-01T00:00:00.000Z",
                "lastModified": "2026-01-01T00:00:00.000Z",
                **({"sdk": repo.sdk} if repo.sdk else {}),
            },
        )

    def _tree(self, params: dict, query: dict, body: bytes) -> Reply:
        repo, error = self._find(params)
        if error is not None:
            return error
        head = repo.head(params["rev"])
        if head is None:
            return _error(404, f"Invalid rev id: {params['rev']}", "RevisionNotFound")
        prefix = (params.get("path") or "").strip("/")
        recursive = query.get("recursive", "false").lower() in ("1", "true")
        entries: dict[str, dict] = {}
        for name in sorted(head.files):
            if prefix and not name.startswith(prefix + "/"):
                continue
            relative = name[len(prefix) + 1 :] if prefix else name
            if not recursive and "/" in relative:
                folder = (prefix + "/" if prefix else "") + relative.split("/")[0]
                entries.setdefault(
                    folder, {"type": "directory", "path": folder, "size": 0, "oid": git_blob_oid(folder.encode())}
                )
                continue
            content = head.files[name]
            entries[name] = {"type": "file", "path": name, "size": len(content), "oid": git_blob_oid(content)}
        return Reply(200, list(entries.values()))

    def _resolve(self, params: dict, query: dict, body: bytes) -> Reply:
        repo = self.fake.repos.get(("model", params["repo"]))
        if repo is None or not self._can_read(repo):
            return _error(404, "Repository not found", "RepoNotFound")
        head = repo.head(params["rev"])
        if head is None:
            return _error(404, "Revision not found", "RevisionNotFound")
        content = head.files.get(params["path"])
        if content is None:
            return _error(404, "Entry not found", "EntryNotFound")
        return Reply(200, raw=content, headers={"X-Repo-Commit": head.oid, "ETag": f'"{git_blob_oid(content)}"'})


def validate_card_metadata(content: str) -> list[str]:
    """What the Hub's /api/validate-yaml would say about a README's front matter (a small subset)."""
    if not content.startswith("---"):
        return []
    end = content.find("\n---", 3)
    if end < 0:
        return ["The YAML metadata block is not closed with '---'"]
    errors = []
    for number, line in enumerate(content[3:end].splitlines(), start=1):
        if "\t" in line:
            errors.append(f"line {number}: tabs are not allowed in YAML")
        match = re.fullmatch(r"license:\s*(\S+)\s*", line)
        if match and match.group(1).strip("'\"") not in KNOWN_LICENSES:
            errors.append(f'"license" must be one of the Hub\'s license ids, got {match.group(1)!r}')
    return errors


if __name__ == "__main__":  # a manual stand-in: python tests/hub/fake_hub.py
    with FakeHub() as server:
        print(f"fake hub at {server.url}; write token {WRITE_TOKEN}, read token {READ_TOKEN}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
