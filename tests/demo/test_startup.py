"""The demo's start: gradio imported without writing type stubs or importing IPython, a warm-up answer
before the URL is printed, and `--timings` (what benchmarks/demo_first_request.py reads)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.demo.conftest import REPO, free_port, start_demo_command
from workbench.core.demo.answers import Answerer
from workbench.core.demo.startup import Timeline, hidden_modules, process_start
from workbench.core.demo.target import DemoTarget, load_target
from workbench.core.errors import WorkbenchError

pytest.importorskip("gradio", reason="the demo extra: pip install -e '.[demo]'")


# A component class defined after gradio is imported, in its own file: gradio's stub writer, when it
# runs, writes my_component.pyi next to it (it does so for every component class it defines).
COMPONENT = """
import gradio as gr


class Shout(gr.Textbox):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
"""
IMPORT_AND_DEFINE = """
import json, sys
sys.path.insert(0, {folder!r})
{how}
after_import = sys.modules.get("IPython", "absent")
import my_component
import gradio
with gradio.Blocks() as demo:
    my_component.Shout(label="loud")
demo.get_config_file()  # what launch() serves: it asks "am I in Colab?"
print(json.dumps({{
    "ipython_after_import": "absent" if after_import == "absent" else after_import is not None,
    "ipython_after_config": sys.modules.get("IPython", "absent") is not None,
    "blocks": len(demo.blocks),
}}))
"""


def _import_in_child(folder: Path, how: str) -> tuple[dict, bool]:
    """What a fresh interpreter saw (IPython, blocks) importing gradio `how`, and whether a stub was written."""
    folder.mkdir()
    (folder / "my_component.py").write_text(COMPONENT, encoding="utf-8")
    script = IMPORT_AND_DEFINE.format(folder=str(folder), how=how)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), (folder / "my_component.pyi").exists()


def test_gradio_is_imported_without_writing_stubs_or_importing_ipython(tmp_path):
    fast, stub_written = _import_in_child(
        tmp_path / "fast", "from workbench.core.demo.startup import import_gradio; import_gradio()"
    )
    assert not stub_written  # the stub writer did not run for a class defined afterwards
    assert fast["blocks"] >= 1  # the component still builds in a Blocks
    assert fast["ipython_after_import"] == "absent"  # not imported, and not hidden: importable later

    terminal, _ = _import_in_child(
        tmp_path / "terminal", "from workbench.core.demo.startup import import_gradio; import_gradio(terminal=True)"
    )
    assert terminal["ipython_after_import"] is False  # hidden (None): gradio's notebook checks answer "no"
    assert terminal["ipython_after_config"] is False

    plain, plain_stub_written = _import_in_child(tmp_path / "plain", "import gradio")
    assert plain_stub_written  # what a plain `import gradio` does, for contrast
    if importlib.util.find_spec("IPython") is not None:
        assert plain["ipython_after_import"] is True and plain["ipython_after_config"] is True


def test_hidden_modules_are_not_importable_inside_and_importable_after():
    name = "workbench_demo_probe_module"
    assert importlib.util.find_spec("json") is not None
    with hidden_modules([name, "json"]) as hidden:
        assert hidden == [name]  # json is imported already: left alone
        assert importlib.util.find_spec(name) is None  # "is it installed?" says no
        with pytest.raises(ImportError):
            importlib.import_module(name)
        import json as still_there

        assert still_there is json
    assert name not in sys.modules  # no mark left behind: a later import searches as usual
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(name)


def test_warm_up_answers_once_and_swallows_a_failure(tiny):
    target = DemoTarget(tiny["sentiment"], "sentiment", "sequence-classification")
    answerer = Answerer(load_target(target))
    calls = []
    classify = answerer.classify
    answerer.classify = lambda text, pair=None: calls.append(text) or classify(text, pair)

    assert answerer.warm_up() > 0
    assert len(calls) == 1 and calls[0].strip()

    def broken(*_args, **_kwargs):
        raise WorkbenchError("no")

    answerer.classify = broken
    assert answerer.warm_up() >= 0  # no exception: the visitor's own request would show the message


@pytest.mark.parametrize(
    "name,head",
    [("ner", "token-classification"), ("qa", "question-answering"), ("mlm", "masked-lm"), ("gpt2", "causal-lm")],
)
def test_warm_up_runs_each_task_for_real(tiny, name, head):
    answerer = Answerer(load_target(DemoTarget(tiny[name], name, head)))
    seen = []
    method = {
        "token-classification": "entities",
        "question-answering": "answer",
        "masked-lm": "fill_mask",
        "causal-lm": "generate",
    }[head]
    original = getattr(answerer, method)

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        if method == "generate":
            result = list(result)
        seen.append(result)
        return iter(result) if method == "generate" else result

    setattr(answerer, method, spy)
    answerer.warm_up()
    assert len(seen) == 1 and seen[0]  # a real, non-empty answer


def test_the_timeline_line_is_what_the_benchmark_reads():
    spec = importlib.util.spec_from_file_location("demo_first_request", REPO / "benchmarks" / "demo_first_request.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    started = process_start()
    assert started <= time.perf_counter()
    timeline = Timeline(started)
    timeline.mark("python+cli")
    sum(range(200_000))
    timeline.mark("import gradio")

    steps = benchmark.parse_timings("noise\n" + timeline.line() + "\n")

    assert list(steps) == ["python+cli", "import gradio", "total"]
    assert steps["python+cli"][0] > 0 and steps["python+cli"][1] > 0  # this test process did start and work
    assert steps["total"][0] == pytest.approx(steps["python+cli"][0] + steps["import gradio"][0], abs=0.02)


@pytest.mark.parametrize("where", ["child", "one process"])
def test_the_command_warms_up_prints_its_timings_and_answers(tiny, tmp_path, where):
    from gradio_client import Client

    port = free_port()
    errors = open(tmp_path / "stderr.txt", "w+", encoding="utf-8")  # noqa: SIM115 - read after the run
    command = [sys.executable, "-m", "workbench", "demo", str(tiny["sentiment"]), "--port", str(port), "--timings"]
    command += ["--one-process"] if where == "one process" else []
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    process, line = start_demo_command(command, env, errors)
    try:
        assert line.startswith("Demo of"), "no URL within 240 s"
        output = Client(f"http://127.0.0.1:{port}/", verbose=False).predict("A gripping film.", api_name="/predict")
    finally:
        process.terminate()
        process.wait(timeout=30)
    errors.seek(0)
    timings = [row for row in errors.read().splitlines() if row.startswith("timings: ")]
    errors.close()

    assert len(timings) == 1
    steps = ["python+cli", "import gradio", "build", "launch", "total"]
    steps += ["model [child]", "warm-up [child]", "wait for model"] if where == "child" else ["model", "warm-up"]
    for step in steps:
        assert f" {step} " in timings[0]
    expected = Answerer(load_target(DemoTarget(tiny["sentiment"], "s", "sequence-classification"))).classify(
        "A gripping film."
    )
    confidences = {item["label"]: item["confidence"] for item in output["confidences"]}
    assert confidences == pytest.approx(expected, abs=1e-4)
