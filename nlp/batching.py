"""Training batches of similar length, drawn without replacement epoch after epoch.

Padding to the longest text of a random batch wastes most of a step on short tweets; HF
Trainer's ``group_by_length`` solves this the same way: take a shuffled slice of
``batch_size * group`` examples, sort it by length, cut it into batches, shuffle those.
"""

from __future__ import annotations

import numpy as np


class LengthGroupedBatches:
    """An endless stream of index batches over one task, each of texts of similar token length."""

    def __init__(self, lengths: list[int], batch_size: int, rng: np.random.Generator, group: int = 8) -> None:
        if not lengths:
            raise ValueError("LengthGroupedBatches needs at least one example")
        self.lengths = np.asarray(lengths)
        self.batch_size = min(batch_size, len(lengths))
        self.group = group
        self.rng = rng
        self._order: list[int] = []
        self._pending: list[list[int]] = []

    def _take(self, count: int) -> list[int]:
        """The next ``count`` indices of the running permutation (a new epoch starts when it runs out)."""
        taken: list[int] = []
        while len(taken) < count:
            if not self._order:
                self._order = self.rng.permutation(len(self.lengths)).tolist()
            need = count - len(taken)
            taken.extend(self._order[:need])
            self._order = self._order[need:]
        return taken

    def next(self) -> list[int]:
        """The next batch of indices."""
        if not self._pending:
            chunk = sorted(self._take(self.batch_size * self.group), key=lambda i: self.lengths[i])
            batches = [chunk[start:start + self.batch_size] for start in range(0, len(chunk), self.batch_size)]
            self._pending = [batches[i] for i in self.rng.permutation(len(batches))]
        return self._pending.pop()
