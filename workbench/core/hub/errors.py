"""Hub failures turned into messages that say what happened and what to do next.

Every call into huggingface_hub goes through `translate_errors`, so the dialog and the CLI
only ever see `HubError` with a `kind` they can act on (the dialog offers "push into it"
for `exists`, a pull request for `forbidden`, "log in" for `no_token`/`invalid_token`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from workbench.core.errors import WorkbenchError

TOKENS_PAGE = "https://huggingface.co/settings/tokens"

# kind -> short title (the dialog shows it above the message)
ERROR_TITLES = {
    "no_token": "No token",
    "invalid_token": "Token rejected (401)",
    "read_only": "Read-only token",
    "forbidden": "No write access (403)",
    "not_found": "Not found",
    "exists": "Repository exists (409)",
    "offline": "Offline",
    "network": "Network failure",
    "invalid_card": "Model card is not valid",
    "invalid_input": "Check the form",
    "cancelled": "Cancelled",
    "server": "Hub error",
}


class HubError(WorkbenchError):
    """A Hub operation failed; `kind` is one of ERROR_TITLES."""

    def __init__(self, kind: str, message: str, *, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.kind = kind
        self.status = status

    @property
    def title(self) -> str:
        return ERROR_TITLES.get(self.kind, "Hub error")

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "title": self.title,
            "message": self.message,
            "hint": self.hint,
            "status": self.status,
        }


def scrub(text: str, secret: str | None) -> str:
    """Remove a token from text that is about to be shown or written anywhere."""
    if secret and len(secret) >= 4:
        text = text.replace(secret, "***")
    return text


def _server_message(error) -> str:
    """The Hub's own one-line explanation (X-Error-Message or the JSON "error"), if any."""
    server_message = getattr(error, "server_message", None)
    if server_message:
        return str(server_message).strip().splitlines()[0]
    return ""


@contextmanager
def translate_errors(
    *,
    endpoint: str,
    repo_id: str | None = None,
    branch: str | None = None,
    token: str | None = None,
    action: str = "talk to the Hub",
    user: str | None = None,
) -> Iterator[None]:
    """Re-raise huggingface_hub / network errors as `HubError` with a message and a hint."""
    import httpx2
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalTokenNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        yield
    except HubError:
        raise
    except LocalTokenNotFoundError:
        raise no_token_error() from None
    except OfflineModeIsEnabled:
        raise offline_error(endpoint) from None
    except RevisionNotFoundError:
        raise HubError(
            "not_found",
            f"Branch {branch!r} does not exist in {repo_id}.",
            hint="Leave the branch empty to push to main, or create the branch first.",
            status=404,
        ) from None
    except RepositoryNotFoundError:
        raise HubError(
            "not_found",
            f"Repository {repo_id} was not found (or it is private and this token cannot see it).",
            hint="Check the repository id. A pull request needs an existing repository;"
            " to create a new one, push to a namespace you own.",
            status=404,
        ) from None
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        detail = scrub(_server_message(error), token)
        raise http_error(status, detail, repo_id=repo_id, action=action, user=user) from None
    except (httpx2.ConnectError, httpx2.ConnectTimeout) as error:
        raise HubError(
            "offline",
            f"Cannot reach {endpoint} ({type(error).__name__}).",
            hint="Check the network, a proxy or HF_ENDPOINT. Nothing was sent; the model folder is untouched.",
        ) from None
    except httpx2.TransportError as error:
        raise HubError(
            "network",
            f"The connection to {endpoint} failed while trying to {action}: "
            f"{scrub(str(error), token).rstrip('.') or type(error).__name__}.",
            hint="Nothing is committed until the final step succeeds. Push again: files already on the Hub"
            " are not sent twice and no empty commit is made.",
        ) from None
    except (httpx2.HTTPError, OSError, RuntimeError) as error:
        # huggingface_hub wraps an LFS upload failure as RuntimeError("Error while uploading 'x' to the Hub.")
        # from the network error; a socket error may also come through bare (OSError).
        raise wrapped_error(error, endpoint=endpoint, token=token, action=action) from None
    except ValueError as error:
        text = scrub(str(error), token)
        if "Invalid metadata in README.md" in text:
            # the Hub's list of errors, else (an empty list) its one-line message
            details = text.split("\n", 1)[1].strip() if "\n" in text else ""
            details = details or scrub(_server_message(error.__cause__), token) or "no reason given"
            raise HubError(
                "invalid_card",
                "The Hub rejected the model card metadata:\n" + details,
                hint="Fix the YAML block at the top of the model card and push again.",
            ) from None
        raise HubError("invalid_input", text) from None


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def wrapped_error(error: BaseException, *, endpoint: str, token: str | None, action: str) -> HubError:
    """A network or Hub failure that reached us wrapped (RuntimeError from an upload thread) or bare (OSError)."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    outer = scrub(str(error), token).strip().rstrip(".")
    for cause in _causes(error):
        if isinstance(cause, HfHubHTTPError):
            status = cause.response.status_code if cause.response is not None else None
            return http_error(status, scrub(_server_message(cause), token), repo_id=None, action=action, user=None)
        if isinstance(cause, (httpx2.HTTPError, OSError)):
            reason = scrub(str(cause), token).strip().splitlines()
            detail = (reason[0].rstrip(".") if reason else "") or type(cause).__name__
            where = f" ({outer})" if cause is not error and outer else ""
            return HubError(
                "network",
                f"The connection to {endpoint} failed while trying to {action}: {detail}{where}.",
                hint="Nothing is committed until the final step succeeds. Push again: files already on the Hub"
                " are not sent twice and no empty commit is made.",
            )
    return HubError(
        "server",
        f"The upload failed while trying to {action}: {outer or type(error).__name__}.",
        hint="Push again in a moment; nothing is committed until the final step succeeds.",
    )


def http_error(status: int | None, detail: str, *, repo_id: str | None, action: str, user: str | None) -> HubError:
    namespace = repo_id.split("/")[0] if repo_id and "/" in repo_id else None
    suffix = f" ({detail})" if detail else ""
    if status == 401:
        return HubError(
            "invalid_token",
            f"The Hub rejected the token (401): it is invalid, expired or revoked{suffix}.",
            hint=f"Create a new token at {TOKENS_PAGE} and log in with it.",
            status=401,
        )
    if status == 403:
        name = repo_id.split("/")[-1] if repo_id else "my-model"
        own = f"{user}/{name}" if user else f"your-name/{name}"
        return HubError(
            "forbidden",
            f"This token may not write to {namespace or repo_id} (403){suffix}.",
            hint="Open a pull request instead (Open as pull request / --create-pr), or push to a namespace you own,"
            f" e.g. {own}."
            f" A read-only token needs replacing with a write token ({TOKENS_PAGE}).",
            status=403,
        )
    if status == 404:
        return HubError("not_found", f"{repo_id or 'The resource'} was not found (404){suffix}.", status=404)
    if status == 409:
        return exists_error(repo_id or "")
    if status == 429:
        return HubError(
            "server",
            f"The Hub is rate limiting requests (429){suffix}.",
            hint="Wait a minute and push again.",
            status=429,
        )
    return HubError(
        "server",
        f"The Hub answered {status} while trying to {action}{suffix}.",
        hint="Push again in a moment; unchanged files are not sent twice.",
        status=status,
    )


def exists_error(repo_id: str) -> HubError:
    return HubError(
        "exists",
        f"Repository {repo_id} already exists.",
        hint="Push into it (files with the same content are skipped), or choose another name.",
        status=409,
    )


def no_token_error() -> HubError:
    return HubError(
        "no_token",
        "No Hugging Face token found (not in HF_TOKEN, none stored, none typed).",
        hint=f"Type a write token and log in (it is stored by huggingface_hub), set HF_TOKEN, or run `hf auth login`."
        f" Tokens: {TOKENS_PAGE}",
    )


def offline_error(endpoint: str) -> HubError:
    return HubError(
        "offline",
        f"Offline mode is on (HF_HUB_OFFLINE), so nothing can be pushed to {endpoint}.",
        hint="Unset HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE, then push again. The model folder is untouched.",
    )
