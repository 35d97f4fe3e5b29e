"""More of the bad-input corpus (issue 19): data files, specs and --set, models, tokenize and push.

Each case runs the CLI in-process and asserts what a user must get: a `workbench: ` line naming the thing (plus at
most a hint line), a non-zero exit, no traceback, and nothing changed on disk (the inputs' folder and the runs
folder hashed before and after). The inputs are built once per module; the tiny model is the engine tests' one.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from tests.faults.test_bad_input_runs import snapshot
from workbench.cli import main
from workbench.training.spec import default_spec, dump_spec

DATA_FILES = {
    "empty.csv": b"",
    "binary.csv": b"text,label\x00\x01\x02\n",
    "latin1.csv": "text,label\nun caf\u00e9,pos\n".encode("latin-1"),
    "ragged.csv": b"text,label\na,pos\nb,neg,extra\n",
    "badquote.csv": b'text,label\n"a,pos\nb,neg\n',
    "dupcols.csv": b"text,label,label\na,pos,neg\n",
    "header_only.csv": b"text,label\n",
    "empty.tsv": b"",
    "latin1.tsv": "text\tlabel\ncr\u00e8me\tpos\n".encode("latin-1"),
    "ragged.tsv": b"text\tlabel\na\tpos\tx\n",
    "bad.jsonl": b'{"text":"a","label":1}\n{not json\n',
    "binary.jsonl": b"\x00\x00\x00",
    "nul.txt": b"\x00" * 10,
    "picture.png": b"\x89PNG\r\n\x1a\n\x00\x00",
    "good.csv": b"text,label\nthe good,pos\nthe bad,neg\ngood good,pos\nbad bad,neg\n",
}


def _truncate(folder: Path) -> None:
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:2000])


def _config_field(folder: Path, key: str, value) -> None:
    config = json.loads((folder / "config.json").read_text())
    config[key] = value
    (folder / "config.json").write_text(json.dumps(config))


def _pickle_only(folder: Path) -> None:
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")


MODEL_VARIANTS = {
    "truncated": _truncate,
    "garbage-header": lambda f: (f / "model.safetensors").write_bytes(b"\xff" * 64),
    "pickle": _pickle_only,
    "noconfig": lambda f: (f / "config.json").unlink(),
    "badconfig": lambda f: (f / "config.json").write_text("{not json"),
    "listconfig": lambda f: (f / "config.json").write_text("[1, 2]"),
    "noweights": lambda f: (f / "model.safetensors").unlink(),
    "typedconfig": lambda f: _config_field(f, "hidden_size", "big"),  # transformers' strict fields refuse it
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, tiny_model_dir) -> Path:
    root = tmp_path_factory.mktemp("bad-inputs")
    data = root / "data"
    data.mkdir()
    for name, content in DATA_FILES.items():
        (data / name).write_bytes(content)
    (data / "emptydir").mkdir()
    models = root / "models"
    shutil.copytree(tiny_model_dir, models / "tiny")
    for name, change in MODEL_VARIANTS.items():
        shutil.copytree(tiny_model_dir, models / name)
        change(models / name)
    (models / "empty").mkdir()
    specs = root / "specs"
    specs.mkdir()

    def write_spec(name: str, *, data_file: str = "good.csv", model: str = "tiny") -> None:
        spec = default_spec(model=str(models / model), data=str(data / data_file))
        (specs / name).write_text(dump_spec(spec))

    write_spec("good.toml")
    write_spec("missing-data.toml", data_file="nope.csv")
    for name in ("pickle", "noconfig", "badconfig", "empty", "noweights", "nope"):
        write_spec(f"model-{name}.toml", model=name)
    (specs / "notoml.toml").write_text("model = [unterminated")
    (specs / "binary.toml").write_bytes(b"\xff\xfe\x00")
    (specs / "unknown.toml").write_text((specs / "good.toml").read_text() + "\n[mystery]\nx = 1\n")
    (root / "existing.toml").write_text("# mine\n")
    return root


def sets(*overrides: str) -> list[str]:
    return ["train", "specs/good.toml", "--detach"] + [part for item in overrides for part in ("--set", item)]


SPEC_PROBLEM = "The run spec in specs/"

CASES = [
    # --- data files (data info / data head: the checks a run's data also goes through) ---
    (["data", "info", "data/empty.csv"], "empty.csv: the file is empty (0 bytes)"),
    (["data", "info", "data/binary.csv"], "binary.csv: looks binary (a NUL byte at offset 10)"),
    (["data", "info", "data/latin1.csv"], "latin1.csv line 2: not valid UTF-8 (byte 0xe9 at offset 17)"),
    (["data", "info", "data/ragged.csv"], "ragged.csv line 3: 3 fields, but the header has 2 columns"),
    (["data", "info", "data/badquote.csv"], "badquote.csv line 2: malformed CSV"),
    (["data", "info", "data/dupcols.csv"], "dupcols.csv line 1: the column name 'label' appears twice"),
    (["data", "info", "data/header_only.csv"], "header_only.csv: a header (2 columns) but no rows"),
    (["data", "info", "data/empty.tsv"], "empty.tsv: the file is empty"),
    (["data", "info", "data/latin1.tsv"], "latin1.tsv line 2: not valid UTF-8 (byte 0xe8"),
    (["data", "info", "data/ragged.tsv"], "ragged.tsv line 2: 3 fields, but the header has 2 columns"),
    (["data", "info", "data/bad.jsonl"], "bad.jsonl line 2 column 2: malformed JSON"),
    (["data", "info", "data/binary.jsonl"], "binary.jsonl: looks binary (a NUL byte at offset 0)"),
    (["data", "info", "data/nul.txt"], "nul.txt: looks binary"),
    (["data", "info", "data/picture.png"], "picture.png: unknown file type '.png'"),
    (["data", "info", "data/emptydir"], "data/emptydir: no data files"),
    (["data", "info", "data/nope.csv"], "data/nope.csv: no such file or folder"),
    (["data", "head", "data/ragged.csv"], "ragged.csv line 3: 3 fields"),
    (["data", "head", "data/latin1.csv"], "latin1.csv line 2: not valid UTF-8"),
    (["data", "head", "data/good.csv", "-n", "-2"], "-n must be 0 or more"),
    (["data", "head", "data/good.csv", "--split", "nope"], "No split 'nope'; the splits are train"),
    (["data", "info", "data/good.csv", "--names", "a,b"], "--names names the columns of a file without a header"),
    (["data", "info", "data/good.csv", "--no-header", "--names", "a"], "1 column names given, but the rows have 2"),
    # --- specs: the file itself, the model and data it names ---
    (["train", "specs/missing-data.toml", "--detach"], "data.train_file: file not found"),
    (["train", "specs/model-pickle.toml", "--detach"], "has pickle weights only (pytorch_model.bin)"),
    (["train", "specs/model-noconfig.toml", "--detach"], "noconfig has no config.json"),
    (["train", "specs/model-badconfig.toml", "--detach"], "badconfig has an unreadable config.json"),
    (["train", "specs/model-empty.toml", "--detach"], "empty has no config.json"),
    (["train", "specs/model-noweights.toml", "--detach"], "noweights has no weights"),
    (["train", "specs/model-nope.toml", "--detach"], "model.name_or_path: no model folder at"),
    (["train", "specs/notoml.toml", "--detach"], "toml: Invalid value (at line 1, column 10)"),
    (["train", "specs/binary.toml", "--detach"], "Cannot read the spec specs/binary.toml"),
    (["train", "specs/unknown.toml", "--detach"], "mystery: unknown section"),
    (["train", "--init", "data", "--force"], "data is a folder, not a spec file"),
    (["train", "--init", "existing.toml"], "existing.toml exists"),
    # --- --set: non-finite, unknown keys, wrong types, impossible values ---
    (sets("training.adam_epsilon=inf"), "training.adam_epsilon: must be a finite number, not inf"),
    (sets("training.learning_rate=nan"), "training.learning_rate: must be a finite number, not nan"),
    (sets("training.max_grad_norm=-inf"), "training.max_grad_norm: must be a finite number, not -inf"),
    (sets("training.bogus=1"), "training.bogus: unknown key"),
    (sets("nosection.x=1"), "nosection.x: unknown section 'nosection'"),
    (sets("noequals"), "noequals: an override is KEY=VALUE"),
    (sets("training.learning_rate=fast"), "training.learning_rate: must be a number, not 'fast'"),
    (sets("training.seed=abc"), "training.seed: must be an integer, not 'abc'"),
    (sets("training.per_device_train_batch_size=2.5"), "must be an integer, not 2.5"),
    (sets("training.per_device_train_batch_size=0"), "training.per_device_train_batch_size: must be 1 or more"),
    (sets("training.gradient_accumulation_steps=0"), "training.gradient_accumulation_steps: must be 1 or more"),
    (sets("training.num_train_epochs=-1"), "training.num_train_epochs: must be more than 0"),
    (sets("training.warmup_ratio=2"), "training.warmup_ratio: must be at least 0 and below 1"),
    (sets("training.weight_decay=-1"), "training.weight_decay: must be 0 or more"),
    (sets("training.save_total_limit=-3"), "training.save_total_limit: must be 0 or more"),
    (sets("training.logging_steps=-5"), "training.logging_steps: must be 1 or more"),
    (sets("data.max_length=100000"), "data.max_length: is 100000 but the model reads at most 128 tokens"),
    (sets("data.max_length=0"), "data.max_length: must be between 1 and"),
    (sets("training.mixed_precision=fp64"), "'fp64' is not one of no, fp16, bf16"),
    (sets("training.lr_scheduler_type=zigzag"), "'zigzag' is not one of linear"),
    (sets("training.eval_strategy=sometimes"), "'sometimes' is not one of no, steps, epoch"),
    (sets("model.head=teleport"), "model.head: 'teleport' is not one of"),
    (sets("training.metrics=bleu"), "unknown metric 'bleu'"),
    # --- models ---
    (["model", "info", "models/truncated"], "model.safetensors is not a safetensors file"),
    (["model", "info", "models/garbage-header"], "model.safetensors is not a safetensors file"),
    (["model", "info", "models/noconfig"], "models/noconfig has no config.json"),
    (["model", "info", "models/badconfig"], "config.json: line 1, column 2: not valid JSON"),
    (["model", "info", "models/listconfig"], "config.json: expected a JSON object, found list"),
    (["model", "info", "models/empty"], "models/empty has no config.json"),
    (["model", "info", "data/good.csv"], "data/good.csv is a file; a checkpoint is a folder"),
    (["model", "info", "models/tiny", "--labels", ",,,"], "Label 1 is empty"),
    (["model", "info", "models/typedconfig"], "Field 'hidden_size' expected int, got str (value: 'big')"),
    (["model", "predict", "models/typedconfig", "hi", "--head", "sequence-classification"], "expected int"),
    (["model", "predict", "models/truncated", "hi", "--head", "sequence-classification"], "not a safetensors file"),
    (["model", "predict", "models/pickle", "hi", "--head", "sequence-classification"], "pickle"),
    (["model", "predict", "models/noconfig", "hi", "--head", "sequence-classification"], "no config.json"),
    (["model", "predict", "models/empty", "hi", "--head", "sequence-classification"], "no config.json"),
    # --- tokenize ---
    (["tokenize", "hello", "--model", "models/nope"], "No tokenizer at models/nope: the folder does not exist"),
    (["tokenize", "hello", "--model", "models/empty"], "No tokenizer files in models/empty"),
    (["tokenize", "hello", "--model", "models/badconfig"], "Could not load a tokenizer from models/badconfig"),
    (["tokenize", "hello", "--model", "models/tiny", "--max-length", "-4"], "max_length: -4 must be at least 1"),
    (["tokenize", "hello", "--model", "models/tiny", "--stride", "-1"], "stride: -1 must not be negative"),
    (["tokenize", "hello", "--model", "models/typedconfig"], "Field 'hidden_size' expected int, got str"),
    # --- push (offline, no token: the suite runs with HF_HUB_OFFLINE=1 and no HF_TOKEN) ---
    (["push", "models/nope", "--repo", "alice/x"], "'models/nope' is neither a folder nor a run id"),
    (["push", "data/good.csv", "--repo", "alice/x"], "'data/good.csv' is neither a folder nor a run id"),
    (["push", "models/empty", "--repo", "alice/x"], "models/empty does not look like a model folder"),
    (["push", "models/tiny", "--repo", "a/b/c"], "Repository id 'a/b/c' is not valid"),
    (["push", "models/tiny", "--repo", "alice/.."], "Repository id 'alice/..' is not valid"),
    (["push", "models/tiny", "--repo", "alice/x y"], "Repository id 'alice/x y' is not valid"),
    (["push", "models/tiny", "--repo", "alice/x", "--branch", "../x"], "Branch '../x' is not a valid branch name"),
    (["push", "models/tiny", "--repo", "alice/x", "--create-pr", "--branch", "dev"], "A pull request is opened"),
    (["push", "models/tiny", "--repo", "alice/x", "-m", " "], "The commit message is empty"),
    (["push", "models/tiny", "--repo", "alice/x", "--card", "data/nope.md"], "data/nope.md: No such file"),
    (["push", "models/tiny", "--repo", "alice/x", "--card", "data/latin1.csv"], "not UTF-8 text (byte 0xe9"),
    (["push", "models/tiny", "--repo", "alice/x"], "Offline mode is on (HF_HUB_OFFLINE)"),
    (["push", "models/tiny"], "Offline mode is on (HF_HUB_OFFLINE)"),
]


def _id(case) -> str:
    return case.id if hasattr(case, "id") else " ".join(case[0])


@pytest.fixture
def inside(workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    for variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    return workspace


def disk(workspace: Path, isolated_dirs: Path) -> tuple[dict, dict]:
    return snapshot(workspace), snapshot(isolated_dirs)


def check(argv, message, *, workspace, isolated_dirs, capsys, stdin: bytes | None = None, monkeypatch=None):
    before = disk(workspace, isolated_dirs)
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = main(argv)
    captured = capsys.readouterr()
    assert code not in (0, None), captured
    err = captured.err
    assert err.startswith("workbench: "), err
    assert message in err, err  # a spec problem is named on the line after "The run spec in X has 1 problem(s):"
    assert len(err.strip().splitlines()) <= 2, f"a message and at most a hint: {err!r}"
    assert "Traceback" not in err + captured.out
    assert disk(workspace, isolated_dirs) == before, "nothing changed on disk"


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[_id(case) for case in CASES])
def test_bad_input_more(inside, isolated_dirs, capsys, argv, message):
    check(argv, message, workspace=inside, isolated_dirs=isolated_dirs, capsys=capsys)


STDIN_CASES = {
    "latin-1": "caf\u00e9 cr\u00e8me".encode("latin-1"),
    "binary": b"\xff\xfe\x00\x01",
}


@pytest.mark.parametrize("name", sorted(STDIN_CASES))
def test_non_utf8_stdin_to_tokenize(inside, isolated_dirs, capsys, monkeypatch, name):
    check(
        ["tokenize", "-", "--model", "models/tiny"],
        "stdin",
        workspace=inside,
        isolated_dirs=isolated_dirs,
        capsys=capsys,
        stdin=STDIN_CASES[name],
        monkeypatch=monkeypatch,
    )


def test_push_offline_json_is_one_error_record(inside, isolated_dirs, capsys):
    before = disk(inside, isolated_dirs)
    assert main(["push", "models/tiny", "--repo", "alice/x", "--json"]) == 2
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert error["kind"] == "offline" and "Offline mode is on" in error["message"]
    assert captured.err == "" and disk(inside, isolated_dirs) == before
