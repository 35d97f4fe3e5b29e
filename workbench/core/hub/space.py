"""Push a model's demo as a Hugging Face Space: export the standalone Gradio app, then upload it.

    folder = space_from_run("latest")              # app.py, requirements.txt, README.md, model/ (temporary)
    plan = space_plan(folder, "alice/bert-mrpc-demo")
    push(plan, client)                              # the same checks and upload as a model push
    shutil.rmtree(folder)

A Space needs a README.md whose front matter names the SDK and the app file; `space_readme` keeps the
export's own header and adds what it lacks (sdk, app_file, sdk_version from the installed gradio).
Exporting loads the model (its weights go into model/), but needs no gradio: the export writes files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from workbench.core.hub.files import DEFAULT_EXCLUDE
from workbench.core.hub.push import PushPlan

SPACE_SDK = "gradio"
APP_FILE = "app.py"
DEFAULT_SPACE_MESSAGE = "Upload demo Space with workbench"
DEFAULT_BODY = "A demo exported by `workbench demo --export`.\n"


def gradio_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gradio")
    except PackageNotFoundError:
        return None


def split_front_matter(text: str) -> tuple[list[str] | None, str]:
    """(the front matter's lines, the body); None when the text has no closed `---` block."""
    if not text.startswith("---"):
        return None, text
    end = text.find("\n---", 3)
    if end < 0:
        return None, text
    body = text[end + 4 :]
    return text[3:end].strip("\n").splitlines(), body[1:] if body.startswith("\n") else body


def space_readme(title: str, existing: str | None = None) -> str:
    """A Space README: the existing one with the keys a Space needs added, or a new one."""
    lines, body = split_front_matter(existing or "")
    lines = list(lines or [])
    values = {
        line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip().strip("'\"")
        for line in lines
        if ":" in line and not line.startswith((" ", "-"))
    }
    wanted = [("title", json.dumps(title[:60])), ("sdk", SPACE_SDK), ("app_file", APP_FILE)]
    version = gradio_version()
    if version and values.get("sdk", SPACE_SDK) == SPACE_SDK:  # a Space installs this gradio
        wanted.append(("sdk_version", version))
    keys = set(values)
    lines += [f"{key}: {value}" for key, value in wanted if key not in keys]
    body = body if body.strip() else DEFAULT_BODY
    return "---\n" + "\n".join(lines) + "\n---\n\n" + body.lstrip("\n")


def is_space_folder(path: str | Path) -> bool:
    """A folder that already holds a Space app (e.g. written by `workbench demo --export`)."""
    return (Path(path).expanduser() / APP_FILE).is_file()


def readme_for(folder: Path, title: str | None = None) -> str:
    try:
        existing = (Path(folder) / "README.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        existing = None
    return space_readme(title or Path(folder).name, existing)


def space_from_run(
    target: str | Path,
    *,
    head: str | None = None,
    labels: str | None = None,
    on_note: Callable[[str], None] | None = None,
) -> Path:
    """Export the demo of a run or model (anything `workbench demo` takes) into a new temporary folder.

    The caller removes the folder when done. Raises WorkbenchError when the model cannot be loaded.
    """
    from workbench.core.demo.export import export_app
    from workbench.core.demo.target import load_target, resolve_target

    demo_target = resolve_target(str(target), head=head)
    for note in demo_target.notes:
        if on_note is not None:
            on_note(note)
    folder = Path(tempfile.mkdtemp(prefix="workbench-space-"))
    try:
        export_app(demo_target, load_target(demo_target, labels), folder)
        readme = readme_for(folder, demo_target.name.replace(":", " "))
        (folder / "README.md").write_text(readme, encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def space_plan(folder: Path, repo_id: str, **options) -> PushPlan:
    """A PushPlan uploading `folder` as a Gradio Space; its README.md carries the Space header."""
    options.setdefault("commit_message", DEFAULT_SPACE_MESSAGE)
    options.setdefault("exclude", list(DEFAULT_EXCLUDE))
    options.setdefault("card_text", readme_for(folder))
    return PushPlan(folder=Path(folder), repo_id=repo_id, repo_type="space", space_sdk=SPACE_SDK, **options)


def suggest_space_name(model_name: str) -> str:
    name = model_name[:91].rstrip("-._") or "model"
    return name if name.endswith("-demo") else f"{name}-demo"
