"""Share a model as a Gradio demo: what to serve (`target`), the app for its task (`app`), a Space (`export`).

Textual-free; gradio, torch and transformers are imported only when an app is built. gradio is an
optional extra: `require_gradio()` turns its absence into one clear message.
"""

from __future__ import annotations

from workbench.core.errors import WorkbenchError

INSTALL_HINT = 'pip install -e ".[demo]"'


class GradioMissing(WorkbenchError):
    """gradio is not installed (it is the optional `demo` extra)."""


def require_gradio():
    """`import gradio`, or GradioMissing naming the install command."""
    try:
        import gradio
    except ImportError:
        raise GradioMissing(f"The demo needs gradio, an optional extra: {INSTALL_HINT}") from None
    return gradio
