"""Share a model as a Gradio demo: what to serve (`target`), the app for its task (`app`), a Space (`export`).

Textual-free; gradio, torch and transformers are imported only when an app is built. gradio is an
optional extra: `require_gradio()` turns its absence into one clear message.
"""

from __future__ import annotations

from workbench.core.errors import WorkbenchError

INSTALL_HINT = 'pip install -e ".[demo]"'


class GradioMissing(WorkbenchError):
    """gradio is not installed (it is the optional `demo` extra)."""


def require_gradio(terminal: bool = False):
    """`import gradio` (without its slow side work: `startup.import_gradio`), or GradioMissing naming the install.

    `terminal`: the process is a terminal command, never a notebook (see `import_gradio`)."""
    from workbench.core.demo.startup import import_gradio

    try:
        gradio = import_gradio(terminal)
    except ImportError:
        raise GradioMissing(f"The demo needs gradio, an optional extra: {INSTALL_HINT}") from None
    return gradio
