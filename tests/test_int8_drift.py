"""The int8 − fp32 drift: paired bootstrap differences and their intervals."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from nlp.evaluate import drift_between, task_metrics
from nlp.int8_drift import mean_drift, paired_bootstrap


def macro_f1(gold, predicted):
    return {"macro-F1": f1_score(gold, predicted, average="macro")}


def labels(seed: int, size: int = 400, classes: int = 4) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, classes, size)


def test_identical_runtimes_drift_by_nothing():
    gold, predicted = labels(1), labels(2)
    (drift,) = paired_bootstrap(macro_f1, gold, predicted, predicted.copy(), resamples=200)
    assert (drift.delta, drift.low, drift.high, drift.agreement, drift.texts) == (0.0, 0.0, 0.0, 1.0, 400)


def test_difference_is_the_metric_difference_in_points_and_lies_in_its_interval():
    gold = labels(3)
    reference = np.where(np.arange(400) % 3 == 0, gold, labels(4))  # right a third of the time, plus chance
    candidate = reference.copy()
    candidate[:60] = gold[:60]  # the candidate fixes some of the reference's mistakes
    (drift,) = paired_bootstrap(macro_f1, gold, reference, candidate, resamples=300)
    expected = 100 * (f1_score(gold, candidate, average="macro") - f1_score(gold, reference, average="macro"))
    assert drift.delta == pytest.approx(expected)
    assert 0 < drift.low <= drift.delta <= drift.high
    assert drift.agreement == pytest.approx((reference == candidate).mean())


def test_a_few_flipped_labels_give_an_interval_across_zero_and_the_seed_fixes_it():
    gold = labels(5)
    reference = np.where(np.arange(400) % 2 == 0, gold, labels(6))
    candidate = reference.copy()
    candidate[1:9:2] = gold[1:9:2]  # four texts fixed…
    candidate[10:14] = (gold[10:14] + 1) % 4  # …four broken
    first = paired_bootstrap(macro_f1, gold, reference, candidate, resamples=300)
    assert first[0].low < 0 < first[0].high
    assert paired_bootstrap(macro_f1, gold, reference, candidate, resamples=300) == first


def test_unequal_label_lists_are_refused_with_their_sizes():
    with pytest.raises(ValueError, match="3 gold, 2 reference and 3 candidate"):
        paired_bootstrap(macro_f1, [0, 1, 1], [0, 1], [0, 1, 1])


def test_every_metric_of_every_task_gets_a_drift_row():
    gold = labels(7, classes=3).tolist()
    fp32 = {"sentiment": (gold, labels(8, classes=3).tolist()),
            "complaint": (labels(9, classes=2).tolist(), labels(10, classes=2).tolist())}
    int8 = {task: (g, p[:200] + list(reversed(p[200:]))) for task, (g, p) in fp32.items()}
    drifts = drift_between(fp32, int8)
    expected = [*task_metrics("sentiment", [0, 1, 2], [0, 1, 2]), *task_metrics("complaint", [0, 1], [0, 1])]
    assert [d.metric for d in drifts] == expected
    assert mean_drift(drifts) == pytest.approx(np.mean([d.delta for d in drifts]))
