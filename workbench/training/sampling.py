"""The training order: a seeded permutation per epoch, optionally grouped by length.

The order of epoch `e` depends only on (seed, e), so a resumed run rebuilds it and skips
the batches already seen: the data position is restored exactly. Grouping by length
(transformers' LengthGroupedSampler recipe) puts rows of similar length in a batch, so
dynamic padding pads less.
"""

from __future__ import annotations

import torch
from torch.utils.data import Sampler


def grouped_by_length(order: list[int], lengths: list[int], batch_size: int, megabatch_factor: int = 50) -> list[int]:
    """Within each mega-batch of the shuffled order, sort by length (longest first).

    The longest row of all goes first, so an out-of-memory error shows at step 1, not hours in.
    """
    megabatch = max(batch_size * megabatch_factor, 1)
    chunks = [
        sorted(order[i : i + megabatch], key=lambda index: -lengths[index]) for i in range(0, len(order), megabatch)
    ]
    if chunks:
        longest = max(range(len(chunks)), key=lambda c: lengths[chunks[c][0]])
        chunks[0][0], chunks[longest][0] = chunks[longest][0], chunks[0][0]
    return [index for chunk in chunks for index in chunk]


class EpochSampler(Sampler[int]):
    def __init__(self, size: int, seed: int, lengths: list[int] | None = None, batch_size: int = 1) -> None:
        self.size = size
        self.seed = seed
        self.lengths = lengths
        self.batch_size = batch_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def order(self) -> list[int]:
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.size, generator=generator).tolist()
        if self.lengths is not None:
            order = grouped_by_length(order, self.lengths, self.batch_size)
        return order

    def __iter__(self):
        return iter(self.order())

    def __len__(self) -> int:
        return self.size
