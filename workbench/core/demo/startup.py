"""A demo's start, made short and measured: gradio imported without its slow side work, and a timeline.

`import gradio` (6.x) does two things a served demo never uses, which are most of its import time on a
small CPU (measured on the 2-core machine: 8.0 s of CPU without this, 4.3 s with it):

- Every component class it defines regenerates its type stub: `gradio.component_meta.create_or_modify_pyi`
  reads the class's source file, parses it with `ast` (twice: the .py and the .pyi), renders a Jinja
  template and rewrites the .pyi in site-packages when it differs. About 80 classes, so the same files
  are parsed again and again. The stubs are for editors; the wheel ships them already.
- `gradio.ipython_ext` imports IPython (and jedi, prompt_toolkit…) for the notebook `%%blocks` magic.

`import_gradio()` imports gradio with the stub writer replaced by a no-op (only in this process, only
for classes defined from then on) and IPython hidden while gradio imports (it is optional there: an
ImportError is what gradio expects without it). Nothing gradio serves or answers changes.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
import time
from collections.abc import Iterator

STUB_WRITER = "create_or_modify_pyi"
STUB_MODULE = "gradio.component_meta"
NOT_NEEDED = ("IPython",)  # imported by gradio only for its notebook extension
# Imported while transformers loads a text model, for what a demo never runs: boto3 for accelerate's
# SageMaker config, optional there (guarded by an "is it installed?" check). Not scipy, though it is
# 1 s of CPU: with scikit-learn installed, transformers imports sklearn (hence scipy) for its generation
# utilities, and a hidden scipy broke loading any model (seen on the GPU machine's image).
MODEL_NOT_NEEDED = ("boto3",)


def _skip_stub_writer(*_args, **_kwargs) -> None:
    """What `gradio.component_meta.create_or_modify_pyi` does in a demo: nothing (the stubs are for editors)."""


class _StubWriterOff(importlib.abc.MetaPathFinder):
    """Finds `gradio.component_meta` as usual, and swaps its stub writer out as soon as the module has run."""

    def find_spec(self, name, path=None, target=None):
        if name != STUB_MODULE:
            return None
        _remove_finder(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run_module = spec.loader.exec_module

        def exec_module(module) -> None:
            run_module(module)
            if callable(getattr(module, STUB_WRITER, None)):
                setattr(module, STUB_WRITER, _skip_stub_writer)

        spec.loader.exec_module = exec_module
        return spec


def _remove_finder(finder) -> None:
    try:
        sys.meta_path.remove(finder)
    except ValueError:
        pass


@contextlib.contextmanager
def hidden_modules(names) -> Iterator[list[str]]:
    """Inside: `import NAME` raises ImportError and "is NAME installed?" checks answer no, for each of
    `names` not imported yet (those are left alone); afterwards they import as usual."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # the import system's own "not importable" mark
    try:
        yield hidden
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def import_gradio(terminal: bool = False):
    """`import gradio`, without writing type stubs and without IPython (see the module's docstring).

    `terminal`: this process is a terminal command, never a notebook, so IPython stays hidden afterwards
    too: gradio's "am I in Colab / IPython?" checks, in `launch()` and its config, import IPython (about
    1 s of CPU) only to learn "no", which they also conclude from the ImportError. In a notebook IPython
    is imported already, and nothing is hidden.

    Raises ImportError as `import gradio` does when it is not installed. Once gradio is imported, this is
    a plain `import gradio`."""
    if terminal:
        for name in NOT_NEEDED:
            sys.modules.setdefault(name, None)  # hidden for good (`hidden_modules` leaves it so)
    with hidden_modules(NOT_NEEDED):  # `import IPython` raises ImportError, which gradio expects without it
        if "gradio" in sys.modules and sys.modules["gradio"] is not None:
            return sys.modules["gradio"]
        finder = _StubWriterOff()
        sys.meta_path.insert(0, finder)
        try:
            import gradio
        finally:
            _remove_finder(finder)
        return gradio


class Timeline:
    """Seconds between named steps since `start` (the process's start when given), for `--timings`."""

    def __init__(self, start: float | None = None) -> None:
        self.start = time.perf_counter() if start is None else start
        self.last = self.start
        self.last_cpu = 0.0 if start is not None else time.process_time()  # CPU time counts from the start
        self.steps: list[tuple[str, float, float]] = []  # name, wall seconds, CPU seconds (all threads)

    def mark(self, name: str) -> float:
        now, cpu = time.perf_counter(), time.process_time()
        self.steps.append((name, now - self.last, cpu - self.last_cpu))
        self.last, self.last_cpu = now, cpu
        return now - self.start

    def add(self, name: str, wall: float, cpu: float) -> None:
        """A step another process timed (the model's child): in the line, not in the wall total."""
        self.steps.append((name, -wall, cpu))

    def line(self) -> str:
        """`timings: import gradio 1.23 s (cpu 1.20 s), … total 5.67 s (cpu 5.10 s)`: one line, parsed by
        the benchmark. Wall time on a crowded machine grows with others' work; CPU time much less."""
        parts = ", ".join(f"{name} {abs(wall):.2f} s (cpu {cpu:.2f} s)" for name, wall, cpu in self.steps)
        total_cpu = sum(cpu for _, _, cpu in self.steps)
        return f"timings: {parts}, total {self.last - self.start:.2f} s (cpu {total_cpu:.2f} s)"


def process_start() -> float:
    """This process's start on the `time.perf_counter` clock (Linux: from /proc), or now when unknown."""
    now = time.perf_counter()
    try:
        import os

        with open(f"/proc/{os.getpid()}/stat", encoding="ascii") as file:
            fields = file.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # starttime, in clock ticks since boot
        with open("/proc/uptime", encoding="ascii") as file:
            uptime = float(file.read().split()[0])
        age = uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return now
    return now - max(age, 0.0)
