"""The run API in one import, for callers written before the split (`from workbench.training import runs`).

Reading and listing live in `workbench.core.runs` (folder.py, listing.py); launching and the owner's
controls (resume, stop, kill, crash records) in `workbench.training.launch`. New code imports those.
"""

from __future__ import annotations

from pathlib import Path  # noqa: F401  (some callers use runs.Path)

from workbench.core.runs.folder import (  # noqa: F401
    LAUNCHED_FILE,
    STOP_FILE,
    process_alive,
    resolve_run,
    runs_dir,
)
from workbench.core.runs.listing import (  # noqa: F401
    FINAL_STATUSES,
    LOG_TAIL_LINES,
    RUN_STATUSES,
    RunInfo,
    describe_data,
    is_alive,
    launched_at,
    list_runs,
    log_tail,
    read_run,
    read_summary,
    run_pids,
)
from workbench.training.launch import (  # noqa: F401
    PACKAGE_PARENT,
    child_environment,
    cpu_threads,
    gpu_count,
    kill_run,
    launch_command,
    launch_run,
    model_short_name,
    new_run_id,
    prepare_spec,
    record_crash,
    resume_run,
    start_spare_ahead,
    stop_run,
)


def default_runs_dir():
    """The runs directory of the settings, absolute (see `workbench.core.runs.folder.runs_dir`)."""
    return runs_dir()


def find_run(name: str, runs_directory=None):
    """Same as `workbench.core.runs.folder.resolve_run` (the one resolver)."""
    return resolve_run(name, runs_directory)
