"""Pushing models to the Hugging Face Hub: client wrapper, token, model card, push, errors.

No textual here (the TUI's push dialog and the `workbench push` command both use this package).
"""

from workbench.core.hub.errors import HubError
from workbench.core.hub.push import PushPlan, PushProgress, PushResult, preflight, push

__all__ = ["HubError", "PushPlan", "PushProgress", "PushResult", "preflight", "push"]
