"""The demo's model in a child process, loaded while the parent imports gradio: two cores, not one.

Importing torch and transformers and loading the model (most of a demo's start) and importing gradio
are both Python work under one GIL: in threads they take turns. In a spawned child the model loads on
another core while the parent imports gradio, builds the page and opens the port; the parent waits
for the child's "ready" (after one warm-up answer) before it prints the URL. Every answer is the
child's model answering through a pipe, one request at a time (the demo's queue serialises them).

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


def _serve(connection, target: DemoTarget, labels_text: str | None) -> None:
    """The child's whole life; it ends quietly when the parent is gone (a closed pipe).

    Ctrl-C reaches the whole process group: the parent handles it (and closes the pipe), the child
    ignores it rather than print a traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _load_and_answer(connection, target, labels_text)
    except (BrokenPipeError, EOFError, ConnectionError):
        pass


def _load_and_answer(connection, target: DemoTarget, labels_text: str | None) -> None:
    """Load, warm up, say ready (with label names and timings), then answer until the pipe closes."""
    began, began_cpu = time.perf_counter(), time.process_time()
    try:
        from workbench.core.demo.answers import Answerer
        from workbench.core.demo.startup import MODEL_NOT_NEEDED, hidden_modules
        from workbench.core.demo.target import load_target

        with hidden_modules(MODEL_NOT_NEEDED):
            loaded = load_target(target, labels_text)
        answerer = Answerer(loaded)
        loaded_at, loaded_cpu = time.perf_counter(), time.process_time()
        answerer.warm_up()
    except WorkbenchError as error:
        connection.send(("error", str(error)))
        return
    except Exception as error:  # noqa: BLE001 - told to the parent, which prints one line
        connection.send(("error", f"The model cannot be loaded: {type(error).__name__}: {error}"))
        return
    now, cpu = time.perf_counter(), time.process_time()
    connection.send(
        (
            "ready",
            {
                "id2label": dict(loaded.id2label or {}),
                "model": (loaded_at - began, loaded_cpu - began_cpu),
                "warm-up": (now - loaded_at, cpu - loaded_cpu),
            },
        )
    )
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
    """An `Answerer` whose model lives in a spawned child process (started here, loading at once)."""

    def __init__(self, target: DemoTarget, labels_text: str | None = None) -> None:
        import multiprocessing

        from workbench.core.demo import spare

        # With WORKBENCH_SPARE_RUN=1 a spare started by an earlier demo (its imports done) takes this one.
        self.process = None
        connection = spare.connect(target, labels_text) if spare.enabled() else None
        if connection is not None:
            self.connection = connection
        else:
            context = multiprocessing.get_context("spawn")  # a fresh interpreter: no fork of gradio's threads
            self.connection, child = context.Pipe()
            self.process = context.Process(
                target=_serve, args=(child, target, labels_text), name="workbench-demo-model", daemon=True
            )
            self.process.start()
            child.close()
        self.from_spare = connection is not None
        self.environment = dict(os.environ)  # what the next demo's must equal to be given a spare started here
        self.head = target.head
        self.lock = threading.Lock()
        self.id2label: dict = {}
        self.timings: dict[str, tuple[float, float]] = {}

    def start_next_spare(self) -> int | None:
        """With WORKBENCH_SPARE_RUN=1, a spare for the next demo (once this one serves: not competing with
        its start for the CPU); its pid, or None."""
        from workbench.core.demo import spare

        if not spare.enabled(self.environment):
            return None
        try:
            return spare.start_spare(env=self.environment)
        except OSError:
            return None  # a spare only saves time

    def wait_ready(self) -> None:
        """Until the child has loaded the model and answered once; WorkbenchError with its reason if not."""
        kind, value = self._receive()
        if kind != "ready":
            self.close()
            raise WorkbenchError(value)
        self.id2label = value["id2label"]
        self.timings = {"model": value["model"], "warm-up": value["warm-up"]}

    def _receive(self):
        try:
            return self.connection.recv()
        except (EOFError, OSError):
            code = self.process.exitcode if self.process is not None else "unknown: a spare"
            raise WorkbenchError(f"The demo's model process stopped (exit code {code}).") from None

    def _call(self, method: str, *args):
        with self.lock:
            self.connection.send((method, args))
            kind, value = self._receive()
        if kind == "error":
            raise WorkbenchError(value)
        return value

    def _stream(self, method: str, *args) -> Iterator:
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

    def close(self) -> None:
        """Stop the child: it ends when the pipe closes (or at once, if it is still loading)."""
        self.connection.close()
        if self.process is None:  # a spare's process: it ends when the connection closes
            return
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=10)
