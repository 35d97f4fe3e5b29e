"""Asking for help: the environment (`workbench env`) and forum-ready reports of failures.

    collect_environment() -> dict            versions, devices, Accelerate config, flags, paths
    format_environment(env) -> str           the same as a Markdown list
    build_run_report(run_dir, redact=True, public_model=None) -> str     a failed or crashed run
    build_error_report(title, error, options, code, redact=True) -> str  an error a pane showed
    save_run_report(run_dir, markdown) -> Path                           writes report.md
    write_report(path, markdown) -> Path, default_report_path() -> Path  saving a pane's report
    Redactor(redact=True)(text) -> str       tokens always out; home, user and host names when redact

Textual-free; the builders import torch (for its versions), so the UI calls them from a worker.
"""

from workbench.core.report.build import (
    REPORT_FILE,
    build_error_report,
    build_run_report,
    default_report_path,
    save_run_report,
    write_report,
)
from workbench.core.report.environment import collect_environment, format_environment
from workbench.core.report.redaction import Redactor, scrub_tokens

__all__ = [
    "REPORT_FILE",
    "Redactor",
    "build_error_report",
    "build_run_report",
    "collect_environment",
    "default_report_path",
    "format_environment",
    "save_run_report",
    "scrub_tokens",
    "write_report",
]
