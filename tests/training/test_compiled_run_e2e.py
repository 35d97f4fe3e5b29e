"""A compiled run on the CPU (torch.compile's inductor; CUDA graphs are the GPU's part): batches of several
lengths train and evaluate through one compiled graph each (model.compile_dynamic, the default)."""

from __future__ import annotations

import random
import re

from tests.training.conftest import FILLER, WORDS_NEGATIVE, WORDS_POSITIVE
from tests.training.helpers import dump_log, run_child
from workbench.core.runs.protocol import Evaluation, EventReader, Finished, LogLine


def varied_rows(path, count: int, seed: int) -> None:
    """Sentences of 3 to 40 words: padded to a multiple of 8, the batches have several lengths."""
    rng = random.Random(seed)
    lines = ["text,label"]
    for _ in range(count):
        positive = rng.random() < 0.5
        words = [rng.choice(FILLER) for _ in range(rng.randint(1, 38))]
        words += rng.sample(WORDS_POSITIVE if positive else WORDS_NEGATIVE, 2)
        lines.append(f"{' '.join(words)},{'pos' if positive else 'neg'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_compiled_run_compiles_once_for_every_length(tiny_model_dir, tmp_path):
    from workbench.training.spec import default_spec

    train, dev = tmp_path / "train.csv", tmp_path / "dev.csv"
    varied_rows(train, 160, 0)
    varied_rows(dev, 48, 1)
    spec = default_spec(model=str(tiny_model_dir), data=str(train))
    spec["data"]["validation_file"] = str(dev)
    spec["model"]["torch_compile"] = True  # compile_dynamic by default
    spec["training"].update(
        max_steps=8,
        group_by_length=True,  # batches from the longest rows to the shortest: several lengths
        logging_steps=2,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=16,
        eval_strategy="steps",
        eval_steps=4,
        save_steps=10**9,
        metrics=["accuracy"],
    )
    run_dir = tmp_path / "run"
    result = run_child(spec, run_dir, env={"OMP_NUM_THREADS": "1"}, timeout=600)
    assert result.returncode == 0, dump_log(run_dir)
    events = list(EventReader(run_dir / "events.jsonl").poll())
    assert isinstance(events[-1], Finished) and events[-1].status == "finished"
    assert len([e for e in events if isinstance(e, Evaluation)]) == 2
    assert (run_dir / "final" / "config.json").is_file()
    log = "\n".join(e.message for e in events if isinstance(e, LogLine))
    # Training's forward and backward and evaluation's forward: three graphs (from inductor's cache or
    # compiled), whatever the lengths; one per length would be nine or more.
    graphs = [int(hits) + int(misses) for hits, misses in re.findall(r"FX graphs (\d+)/(\d+)", log)]
    assert graphs and graphs[-1] == 3, log
