"""The Errors view's entity reader equals seqeval's `get_entities` (default mode) on any tag sequence."""

from __future__ import annotations

import random
import warnings

from seqeval.metrics.sequence_labeling import get_entities

from workbench.ui.training.errors_spans import iob_entities

TAGS = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "E-LOC", "S-PER", "I-MISC", "B", "I", ".", "X-Y", "B-A-B"]


def test_equals_seqeval_on_random_sequences():
    rng = random.Random(0)
    with_entities = 0
    for _ in range(20_000):
        seq = [rng.choice(TAGS) for _ in range(rng.randint(1, 12))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # seqeval warns about the odd tags mixed in on purpose
            expected = get_entities(list(seq))
        assert iob_entities(seq) == expected, seq
        with_entities += bool(expected)
    assert with_entities > 10_000  # the comparison compares entities, not only empty lists


def test_real_shapes():
    assert iob_entities(["B-PER", "I-PER", "O", "B-LOC"]) == [("PER", 0, 1), ("LOC", 3, 3)]
    assert iob_entities(["O", "O"]) == []
    assert iob_entities(["I-ORG", "I-ORG", "B-ORG"]) == [("ORG", 0, 1), ("ORG", 2, 2)]  # IOB1
