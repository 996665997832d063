"""Length-grouped training batches: every example once per epoch, similar lengths per batch."""

from collections import Counter

import numpy as np
import pytest

from nlp.batching import LengthGroupedBatches


def test_one_epoch_visits_every_example_exactly_once():
    lengths = list(np.random.default_rng(0).integers(3, 64, size=320))
    batches = LengthGroupedBatches(lengths, batch_size=8, rng=np.random.default_rng(1), group=4)
    seen = Counter(i for _ in range(40) for i in batches.next())
    assert set(seen) == set(range(320)) and set(seen.values()) == {1}


def test_batches_hold_similar_lengths_so_padding_shrinks():
    rng = np.random.default_rng(2)
    lengths = list(rng.integers(3, 64, size=2048))
    grouped = LengthGroupedBatches(lengths, batch_size=32, rng=np.random.default_rng(3), group=8)
    grouped_padding = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b)
                               for b in (grouped.next() for _ in range(64))])
    random_padding = np.mean([np.ptp(rng.choice(lengths, 32)) for _ in range(64)])
    assert grouped_padding < random_padding / 3


def test_next_epoch_begins_when_the_data_runs_out_and_small_tasks_still_fill_a_batch():
    batches = LengthGroupedBatches([5, 9, 7], batch_size=32, rng=np.random.default_rng(4), group=8)
    group = [batches.next() for _ in range(8)]
    assert all(len(batch) == 3 for batch in group)
    assert Counter(i for batch in group for i in batch) == {0: 8, 1: 8, 2: 8}


def test_an_empty_task_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="at least one example"):
        LengthGroupedBatches([], batch_size=4, rng=np.random.default_rng(5))
