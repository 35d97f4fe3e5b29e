"""The exported Space app runs on its own; the page renders in a real browser; no gradio, one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.demo.conftest import SENTIMENT_LABELS, VALIDATION_ROWS
from workbench.core.demo.target import load_target, resolve_target

REPO = Path(__file__).resolve().parents[2]


def test_without_gradio_the_command_says_how_to_install_it(monkeypatch, capsys):
    from workbench.cli import main

    monkeypatch.setitem(sys.modules, "gradio", None)  # `import gradio` raises ImportError

    assert main(["demo", "embedded"]) == 2

    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err  # one line, no traceback
    assert 'pip install -e ".[demo]"' in err


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 240.0):
    from gradio_client import Client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"app.py exited with {process.returncode}:\n{process.stdout.read()}")
        try:
            return Client(url, verbose=False, download_files=False)
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(1.0)
    pytest.fail(f"app.py did not answer at {url} within {timeout:.0f} s")


def test_the_exported_app_runs_on_its_own_and_answers(tmp_path, run_folder):
    pytest.importorskip("gradio")
    from workbench.core.demo.app import free_port
    from workbench.core.demo.export import export_app

    target = resolve_target(str(run_folder))
    folder = export_app(target, load_target(target), tmp_path / "space")

    app = (folder / "app.py").read_text(encoding="utf-8")
    assert "workbench" not in app.split('"""', 2)[2]  # only the docstring names it: no import
    requirements = (folder / "requirements.txt").read_text(encoding="utf-8").split()
    assert [line.split(">=")[0] for line in requirements] == ["gradio", "transformers", "torch"]
    assert "sdk: gradio" in (folder / "README.md").read_text(encoding="utf-8")
    assert (folder / "model" / "config.json").is_file()

    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    env.pop("PYTHONPATH", None)
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        client = _wait_for(f"http://127.0.0.1:{port}/", process)
        output = client.predict(VALIDATION_ROWS[0][0], api_name="/predict")
        assert {item["label"] for item in output["confidences"]} == set(SENTIMENT_LABELS.values())
        # The same model as the served demo: the same probabilities.
        from workbench.core.demo.answers import Answerer

        expected = Answerer(load_target(target)).classify(VALIDATION_ROWS[0][0])
        got = {item["label"]: item["confidence"] for item in output["confidences"]}
        assert got == pytest.approx(expected, abs=1e-3)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_export_refuses_a_folder_that_already_has_an_app(tmp_path, run_folder):
    from workbench.core.demo.export import export_app
    from workbench.core.errors import WorkbenchError

    (tmp_path / "space").mkdir()
    (tmp_path / "space" / "app.py").write_text("print('mine')\n", encoding="utf-8")
    target = resolve_target(str(run_folder))
    with pytest.raises(WorkbenchError, match="already has an app.py"):
        export_app(target, load_target(target), tmp_path / "space")
    assert (tmp_path / "space" / "app.py").read_text(encoding="utf-8") == "print('mine')\n"  # untouched


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed: .ci/run must `apt-get install -y chromium` (Debian's package)")
    pytest.skip("chromium is not installed (apt-get install -y chromium)")


def test_the_page_renders_in_a_headless_browser(tmp_path, run_folder, served):
    """Chromium opens the demo of a run: its name, task, label names, the validation examples, a Submit."""
    pytest.importorskip("gradio")
    browser = _chromium()
    target = resolve_target(str(run_folder))
    server, _ = served(target, load_target(target))
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1100,900"]
    common.append("--virtual-time-budget=20000")

    dom = subprocess.run([*common, "--dump-dom", server.url], capture_output=True, text=True, timeout=180).stdout
    assert f"run {run_folder.name}" in dom
    assert "Text classification" in dom and "negative, positive" in dom
    assert "From the validation data" in dom and VALIDATION_ROWS[1][0] in dom
    assert "Submit" in dom

    screenshot = tmp_path / "demo.png"
    subprocess.run([*common, f"--screenshot={screenshot}", server.url], capture_output=True, timeout=180)
    data = screenshot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5000
    keep = os.environ.get("WORKBENCH_SCREENSHOTS_DIR")  # docs/screenshots/demo.png is made this way
    if keep:
        shutil.copy(screenshot, Path(keep) / "demo.png")


def _import_app(folder: Path):
    """The exported app.py as a module (it builds its Blocks on import; only `python app.py` launches)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"exported_app_{folder.name}", folder / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("model", ["ner", "qa", "mlm", "gpt2"])
def test_the_exported_app_answers_like_the_served_demo(tmp_path, tiny, model):
    """Each task's standalone code (no workbench) gives the served demo's answers."""
    pytest.importorskip("gradio")
    from workbench.core.demo.answers import Answerer
    from workbench.core.demo.export import export_app

    target = resolve_target(str(tiny[model]))
    loaded = load_target(target)
    app = _import_app(export_app(target, loaded, tmp_path / model))
    served = Answerer(loaded)
    assert app.TASK == target.head

    if model == "ner":
        text = "Sylvain works at Hugging Face"
        assert app.entities(text) == {
            "text": text,
            "entities": [{k: v for k, v in e.items() if k != "score"} for e in served.entities(text)["entities"]],
        }
    elif model == "qa":
        context = "The workbench was written in Brooklyn by a small team."
        answer, marked = app.answer("Where was it written?", context)
        assert answer == served.answer("Where was it written?", context)[0]
        assert marked["entities"][0]["start"] == context.index(answer)
    elif model == "mlm":
        got = app.fill_mask("Paris is the [MASK] of France.")
        assert got == pytest.approx(served.fill_mask("Paris is the [MASK] of France."), abs=1e-4)
    else:
        assert list(app.generate("Once upon a time", 8, 0.0))[-1] == list(served.generate("Once upon a time", 8))[-1]
