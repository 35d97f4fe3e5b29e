"""The demo's model in a child process, loaded while the parent imports gradio: two cores, not one.

Importing torch and transformers and loading the model (most of a demo's start) and importing gradio
are both Python work under one GIL: in threads they take turns. In a spawned child the model loads on
another core while the parent imports gradio, builds the page and opens the port; the parent waits
for the child's "ready" (after one warm-up answer) before it prints the URL. Every answer is the
child's model answering through a pipe, one request at a time (the demo's queue serialises them).

A spare demo (`spare.py`) starts its model process ahead (`RemoteAnswerer.ahead`): it imports torch and
transformers, then waits for the target; it says "loaded" (label names: the page can be built) before
its warm-up and "ready" after it.

Gradio-free and torch-free in the parent: `RemoteAnswerer` has the methods `build_app` calls.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

from workbench.core.demo.target import DemoTarget
from workbench.core.errors import WorkbenchError

CALLS = ("classify", "entities", "answer", "fill_mask")
STREAMS = ("generate",)


def _serve(connection, target: DemoTarget | None, labels_text: str | None) -> None:
    """The child's whole life; it ends quietly when the parent is gone (a closed pipe).

    Started ahead (`target` None, a spare demo's model process): it imports torch and transformers first,
    then waits for the target and label names. Ctrl-C reaches the whole process group: the parent handles
    it (and closes the pipe), the child ignores it rather than print a traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if target is None:
            from workbench.core.demo.spare import preload

            preload()
            connection.send(("preloaded", None))
            target, labels_text = connection.recv()
        _load_and_answer(connection, target, labels_text)
    except (BrokenPipeError, EOFError, ConnectionError):
        pass


def _load_and_answer(connection, target: DemoTarget, labels_text: str | None) -> None:
    """Load (say loaded, with label names: the page can be built), warm up (say ready), then answer until
    the pipe closes."""
    began, began_cpu = time.perf_counter(), time.process_time()
    try:
        from workbench.core.demo.answers import Answerer
        from workbench.core.demo.startup import MODEL_NOT_NEEDED, hidden_modules
        from workbench.core.demo.target import load_target

        with hidden_modules(MODEL_NOT_NEEDED):
            loaded = load_target(target, labels_text)
        answerer = Answerer(loaded)
        loaded_at, loaded_cpu = time.perf_counter(), time.process_time()
        timing = (loaded_at - began, loaded_cpu - began_cpu)
        connection.send(("loaded", {"id2label": dict(loaded.id2label or {}), "model": timing}))
        answerer.warm_up()
    except WorkbenchError as error:
        connection.send(("error", str(error)))
        return
    except Exception as error:  # noqa: BLE001 - told to the parent, which prints one line
        connection.send(("error", f"The model cannot be loaded: {type(error).__name__}: {error}"))
        return
    now, cpu = time.perf_counter(), time.process_time()
    connection.send(("ready", {"warm-up": (now - loaded_at, cpu - loaded_cpu)}))
    while True:
        try:
            method, args = connection.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        try:
            if method in STREAMS:
                for chunk in getattr(answerer, method)(*args):
                    connection.send(("chunk", chunk))
                connection.send(("done", None))
            elif method in CALLS:
                connection.send(("done", getattr(answerer, method)(*args)))
            else:
                connection.send(("error", f"unknown call {method!r}"))
        except WorkbenchError as error:
            connection.send(("error", error.message))
        except Exception as error:  # noqa: BLE001 - the page shows one line
            connection.send(("error", f"{type(error).__name__}: {error}"))


class RemoteAnswerer:
    """An `Answerer` whose model lives in a spawned child process (started here, loading at once, or, made
    by `ahead()`, importing torch and transformers until `load` names the target)."""

    def __init__(self, target: DemoTarget | None, labels_text: str | None = None) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no fork of gradio's threads
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, target, labels_text), name="workbench-demo-model", daemon=True
        )
        self.process.start()
        child.close()
        self.environment = dict(os.environ)  # what the next demo's must equal to be given a spare started here
        self.head = target.head if target is not None else None
        self.lock = threading.Lock()
        self.loaded = False
        self.ready = threading.Event()  # warmed up: questions go to the child from then on
        self.id2label: dict = {}
        self.timings: dict[str, tuple[float, float]] = {}

    @classmethod
    def ahead(cls) -> RemoteAnswerer:
        """A model process that imports what loading a model needs now, and loads the target `load` names."""
        return cls(None)

    def wait_preloaded(self) -> None:
        """Until a process started `ahead()` has imported what loading a model needs; WorkbenchError if it died."""
        kind, value = self._receive()
        if kind != "preloaded":
            raise WorkbenchError(f"The demo's model process said {kind!r} before its imports were done: {value}")

    def load(self, target: DemoTarget, labels_text: str | None = None) -> None:
        """The target of a process started `ahead()`: it loads it now (then `wait_ready`)."""
        self.head = target.head
        try:
            self.connection.send((target, labels_text))
        except (OSError, ValueError):
            pass  # the child is gone: `wait_ready` says so

    def start_next_spare(self) -> int | None:
        """Unless WORKBENCH_SPARE_RUN=0, a spare for the next demo (once this one serves: not competing with
        its start for the CPU); its pid, or None."""
        from workbench.core.demo import spare

        return spare.start_next(self.environment)

    def wait_loaded(self) -> None:
        """Until the child has loaded the model (its label names known: the page can be built, while it
        warms up); WorkbenchError with its reason if it cannot."""
        if self.loaded:
            return
        kind, value = self._receive()
        if kind != "loaded":
            self.close()
            raise WorkbenchError(value)
        self.id2label = value["id2label"]
        self.timings["model"] = value["model"]
        self.loaded = True

    def wait_ready(self) -> None:
        """Until the child has loaded the model and answered once; WorkbenchError with its reason if not.
        Questions asked before wait here (a page launched while the model warms up)."""
        self.wait_loaded()
        kind, value = self._receive()
        if kind != "ready":
            self.close()
            raise WorkbenchError(value)
        self.timings["warm-up"] = value["warm-up"]
        self.ready.set()

    def _receive(self):
        try:
            return self.connection.recv()
        except (EOFError, OSError):
            code = self.process.exitcode
            raise WorkbenchError(f"The demo's model process stopped (exit code {code}).") from None

    def _call(self, method: str, *args):
        self.ready.wait()
        with self.lock:
            self.connection.send((method, args))
            kind, value = self._receive()
        if kind == "error":
            raise WorkbenchError(value)
        return value

    def _stream(self, method: str, *args) -> Iterator:
        self.ready.wait()
        with self.lock:
            self.connection.send((method, args))
            while True:
                kind, value = self._receive()
                if kind == "chunk":
                    yield value
                elif kind == "error":
                    raise WorkbenchError(value)
                else:
                    return

    def classify(self, text: str, pair: str | None = None) -> dict[str, float]:
        return self._call("classify", text, pair)

    def entities(self, text: str) -> dict:
        return self._call("entities", text)

    def answer(self, question: str, context: str) -> tuple[str, dict]:
        return tuple(self._call("answer", question, context))

    def fill_mask(self, text: str) -> dict[str, float]:
        return self._call("fill_mask", text)

    def generate(self, text: str, max_new_tokens: int = 40, temperature: float = 0.0) -> Iterator[str]:
        yield from self._stream("generate", text, max_new_tokens, temperature)

    def close(self, wait_s: float = 2.0) -> None:
        """Stop the child: it ends when the pipe closes (or is ended after `wait_s`, if it is still loading)."""
        self.connection.close()
        self.process.join(timeout=wait_s)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=10)
