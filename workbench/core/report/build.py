"""Forum-ready Markdown reports: a one-line summary, the environment, the error with its
traceback, the spec or the pane's options, and a minimal reproducible script.

Two entry points share one layout: `build_run_report(run_dir)` for a failed or crashed run
(read from its folder: events.jsonl, stdout.log, spec.toml) and `build_error_report(...)` for an
error a pane showed. Every piece goes through one `Redactor`: tokens never survive, and local
paths and names are redacted unless `redact=False`.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import tomli_w
import tomllib

from workbench.core.formatting import without_escapes
from workbench.core.report.environment import collect_environment, format_environment
from workbench.core.report.redaction import Redactor
from workbench.core.report.script import reproduction_script
from workbench.core.runs import protocol
from workbench.core.runs.folder import SPEC_FILE, STDOUT_FILE
from workbench.core.runs.listing import LOG_TAIL_LINES, describe_data, log_tail, read_events, read_run

REPORT_FILE = "report.md"
HELP_FOOTER = (
    "_Made with `workbench report`. Before posting, read it through: tokens are removed, "
    "and local paths and names are redacted unless `--no-redact` was given._"
)


def fence(text: str, language: str = "") -> str:
    """`text` in a code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{language}\n{text.rstrip()}\n{ticks}"


def first_line(text: str, limit: int = 160) -> str:
    line = next((line.strip() for line in text.strip().splitlines() if line.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error_line(text: str) -> str:
    """The line that says what went wrong: a traceback's last exception line, else the first line."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if lines and lines[0].startswith("Traceback (most recent call last)"):
        raised = [line for line in lines if not line.startswith((" ", "\t", "Traceback", "During handling"))]
        if raised:
            return first_line(raised[-1])
    return first_line(text)


def _options_block(options: dict | str | None, language: str = "") -> str:
    if not options:
        return "_none_"
    if isinstance(options, str):
        return fence(options, language)
    try:
        return fence(tomli_w.dumps(_tomlable(options)), "toml")
    except (TypeError, ValueError):
        return "\n".join(f"- {key}: {value!r}" for key, value in options.items())


def _tomlable(value):
    """Options as TOML can hold them: None left out, paths and other objects as text."""
    if isinstance(value, dict):
        return {str(key): _tomlable(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_tomlable(item) for item in value if item is not None]
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def render_report(
    *,
    heading: str,
    summary: str,
    environment: str,
    error: str,
    suggestion: str | None = None,
    options_title: str = "Options",
    options: dict | str | None = None,
    options_language: str = "",
    code: str | None = None,
    code_note: str = "",
    extra: list[tuple[str, str]] | None = None,
    redactor: Redactor | None = None,
) -> str:
    """The shared layout; every part, headings included, goes through the redactor."""
    redactor = redactor or Redactor()
    parts = [
        f"# {heading}",
        "",
        f"**Summary:** {summary}",
        "",
        "## Environment",
        "",
        environment,
        "",
        "## Error",
        "",
        fence(error or "(no error text was recorded)", "text"),
    ]
    if suggestion:
        parts += ["", f"Workbench's suggestion: {suggestion}"]
    parts += ["", f"## {options_title}", "", _options_block(options, options_language)]
    if code:
        parts += ["", "## Minimal reproducible example", ""]
        if code_note:
            parts += [code_note, ""]
        parts.append(fence(code, "python"))
    for title, body in extra or []:
        parts += ["", f"<details><summary>{title}</summary>", "", body, "", "</details>"]
    parts += ["", HELP_FOOTER, ""]
    return redactor("\n".join(parts))


def build_error_report(
    title: str,
    error: str,
    options: dict | str | None = None,
    code: str | None = None,
    *,
    redact: bool = True,
    environment: dict | None = None,
) -> str:
    """A report for an error a pane showed: `title` names what was being done ("Loading a tokenizer"),
    `error` is the message and traceback, `options` what the pane was set to, `code` its Show code."""
    redactor = Redactor(redact=redact)
    env = environment if environment is not None else collect_environment()
    return render_report(
        heading=f"workbench: {title}",
        summary=f"{title} failed: {error_line(error) or 'no message'}",
        environment=format_environment(env),
        error=error,
        options=options,
        code=code,
        code_note="What the pane did, with the libraries alone (from Show code):" if code else "",
        redactor=redactor,
    )


def read_failure(run_dir: Path) -> tuple[dict | None, protocol.Failed | None, int]:
    """(the versions the run recorded when it started, its last failure or None, its last step)."""
    versions, failed, step = None, None, 0
    for event in read_events(run_dir).events:
        if isinstance(event, protocol.RunStarted):
            versions, failed = event.versions, None  # a resume starts afresh
        elif isinstance(event, protocol.Step):
            step = event.step
        elif isinstance(event, protocol.Failed):
            failed = event
        elif isinstance(event, protocol.Finished):
            failed = None
    return versions, failed, step


def _describe_time(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp)) if timestamp else "an unknown time"


def build_run_report(
    run_dir: Path | str,
    redact: bool = True,
    *,
    public_model: str | None = None,
    environment: dict | None = None,
    status: str | None = None,
    error: str | None = None,
) -> str:
    """The report for a run, from its folder (read only, never written). Meant for a failed or crashed
    run; a run that ended well gets one too (its "error" says so). The status and error are
    `read_run`'s unless given: a child that died without a final event reads as crashed, and the end
    of its log stands in for the traceback."""
    run_dir = Path(run_dir)
    redactor = Redactor(redact=redact)
    try:
        spec_text = (run_dir / SPEC_FILE).read_text(encoding="utf-8")
        spec = tomllib.loads(spec_text)
    except (OSError, tomllib.TOMLDecodeError) as error:
        spec_text, spec = f"(spec.toml could not be read: {error})", {}
    if status is None:
        info = read_run(run_dir)
        status, error = info.status, info.error
    versions, failed, step = read_failure(run_dir)
    if failed is None and status in ("failed", "crashed"):
        # A crash nobody has written down yet (only the run's owner records one).
        failed = protocol.Failed(error=error or "The training process died without a final event.", status=status)
        failed.traceback = log_tail(run_dir)
        try:
            failed.time = (run_dir / STDOUT_FILE).stat().st_mtime  # about when it died
        except OSError:
            pass
    status = failed.status if failed is not None else status
    model = spec.get("model", {}).get("name_or_path", "?")
    dataset = describe_data(spec)
    if failed is not None:
        error_text = failed.error
        if failed.traceback and failed.traceback.strip() not in error_text:
            error_text = f"{failed.error}\n\n{failed.traceback.rstrip()}"
        error_text = without_escapes(error_text)  # a crash recorded with a coloured log tail
        summary = (
            f"Training run `{run_dir.name}` ({model} on {dataset}) {failed.status} at step {step}"
            f" ({_describe_time(failed.time)}): {first_line(failed.error)}"
        )
    else:
        error_text = f"(no failure recorded: the run is {status})"
        summary = (
            f"Training run `{run_dir.name}` ({model} on {dataset}) is {status}, at step {step}; no error recorded."
        )
    env = environment if environment is not None else collect_environment()
    environment_text = format_environment(env)
    if versions:
        recorded = ", ".join(f"{name} {version}" for name, version in versions.items())
        environment_text += f"\n- Versions the run recorded when it started: {recorded}"
    title = f"Reproduces workbench run {run_dir.name}: {first_line(failed.error) if failed else status}"
    code = (
        reproduction_script(spec, public_model=public_model, title=_docstring_safe(title), redact=redactor)
        if spec
        else None
    )
    note = "The run's model, data and settings with datasets + transformers alone (`python repro.py`):"
    tail = log_tail(run_dir)
    extra = [(f"Last {LOG_TAIL_LINES} lines of stdout.log", fence(tail, "text"))] if tail else []
    return render_report(
        heading=f"workbench run {status}: {first_line(failed.error, 100) if failed else run_dir.name}",
        summary=summary,
        environment=environment_text,
        error=error_text,
        suggestion=failed.suggestion if failed else None,
        options_title="Run spec (spec.toml)",
        options=spec_text,
        options_language="toml",
        code=code,
        code_note=note,
        extra=extra,
        redactor=redactor,
    )


def _docstring_safe(text: str) -> str:
    return text.replace("\\", "/").replace('"""', "'''")


def write_report(path: Path | str, markdown: str) -> Path:
    """Write a report atomically (a reader never sees half of it), making its folder if needed."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(markdown, encoding="utf-8")
    temporary.replace(path)
    return path


def save_run_report(run_dir: Path | str, markdown: str) -> Path:
    """Write `report.md` in the run folder."""
    return write_report(Path(run_dir) / REPORT_FILE, markdown)


def default_report_path(now: float | None = None) -> Path:
    """Where a report of a pane's error is saved: a new file under the data dir's reports/."""
    from workbench.core import paths

    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now or time.time()))
    return paths.data_dir() / "reports" / f"report-{stamp}.md"
