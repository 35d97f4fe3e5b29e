"""What the push dialog says while it uploads and once it is done (text only, no widgets)."""

from __future__ import annotations

from workbench.core.hub.files import human_size


def progress_label(progress) -> str:
    """One line for a `core.hub.push` progress report."""
    return {
        "checking": "Checking token and repository…",
        "creating": f"Creating {progress.current}…",
        "uploading": f"Sending {progress.files_done}/{progress.files_total} · {progress.current or 'starting'}"
        f" · {human_size(progress.bytes_done)} of {human_size(progress.bytes_total)}",
        "committing": "Committing… (cannot be cancelled now)",
    }.get(progress.stage, progress.stage)


def result_lines(result) -> list[str]:
    """Markup lines for a finished push: what was sent where, the commit and the pull request."""
    lines = []
    if result.nothing_changed:
        lines.append(
            f"[b]Up to date[/b] · all {len(result.unchanged)} files are already on"
            f" {result.repo_id}@{result.branch}; no commit was made."
        )
    else:
        made = " (new repository)" if result.created_repo else ""
        lines.append(f"[b]Pushed[/b] {len(result.uploaded)} file(s) to {result.repo_url}{made}")
        if result.unchanged:
            lines.append(f"{len(result.unchanged)} unchanged file(s) skipped.")
    lines.append(f"Commit {result.commit_id}")
    if result.pr_url:
        lines.append(f"Pull request: {result.pr_url}")
    return lines
