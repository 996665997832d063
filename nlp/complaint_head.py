"""The complaint head: balanced logistic regression on pooled embeddings, chosen to carry to new brands.

The complaint data mixes three sources: the product-domain tweets of Preoţiuc-Pietro et
al. (plus random tweets as easy negatives), airline tweets and FINCORP. The two large
narrow sources swamp the product domains, whose hard negatives (questions and remarks to
brands) matter most on unseen brands; and a loosely regularised head learns each
domain's vocabulary, which does not carry to the next one. So the head's two settings,
the regularisation strength C and the weight of product-domain rows, are chosen by
leave-one-domain-out over the product domains, and the evaluation nests that choice:
the held-out domain never influences the settings used to predict it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from nlp.datasets import COMPLAINT_DOMAINS
from nlp.model import available_cores


@dataclass(frozen=True)
class HeadSettings:
    """The complaint head's inverse regularisation ``c`` and product-domain row weight."""
    c: float = 1.0
    product_weight: float = 1.0


UNTUNED = HeadSettings()
CANDIDATES = tuple(HeadSettings(c, weight) for c, weight in product((0.001, 0.01, 0.1, 1.0), (1.0, 4.0, 16.0, 64.0)))


def sample_weights(groups: np.ndarray, product_weight: float) -> np.ndarray:
    """``product_weight`` for rows of a product domain, 1 for every other row."""
    return np.where(np.isin(groups, COMPLAINT_DOMAINS), product_weight, 1.0)


def fit_complaint_head(features: np.ndarray, labels, groups,
                       settings: HeadSettings = UNTUNED) -> LogisticRegression:
    """Balanced logistic regression on embeddings; returns the fitted classifier."""
    weights = sample_weights(np.asarray(groups), settings.product_weight)
    return LogisticRegression(C=settings.c, class_weight="balanced", max_iter=3000).fit(
        features, np.asarray(labels), sample_weight=weights)


def domain_folds(groups: np.ndarray) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(domain, train rows, test rows) leaving out each product domain present in turn."""
    return [(domain, np.where(groups != domain)[0], np.where(groups == domain)[0])
            for domain in COMPLAINT_DOMAINS if (groups == domain).any()]


def left_out_domains(groups) -> list[str]:
    """The product domain of each pooled left-out prediction, in the order they are returned."""
    return [domain for domain, _, test in domain_folds(np.asarray(groups)) for _ in test]


def _left_out_predictions(features, labels, groups, settings_for) -> tuple[list[int], list[int]]:
    """Gold and predicted labels of every left-out product domain; ``settings_for(train rows)``."""
    gold: list[int] = []
    predicted: list[int] = []
    for _, train, test in domain_folds(groups):
        head = fit_complaint_head(features[train], labels[train], groups[train], settings_for(train))
        gold += labels[test].tolist()
        predicted += head.predict(features[test]).tolist()
    return gold, predicted


def _left_out_macro_f1(features, labels, groups, settings: HeadSettings) -> float:
    return f1_score(*_left_out_predictions(features, labels, groups, lambda _: settings), average="macro")


def choose_head_settings(features: np.ndarray, labels, groups) -> HeadSettings:
    """The candidate settings with the best macro-F1 over left-out product domains (one core each)."""
    labels, groups = np.asarray(labels), np.asarray(groups)
    if len(domain_folds(groups)) < 2:
        return UNTUNED
    cores = min(len(CANDIDATES), available_cores())
    scores = Parallel(n_jobs=cores)(delayed(_left_out_macro_f1)(features, labels, groups, settings)
                                    for settings in CANDIDATES)
    return CANDIDATES[int(np.argmax(scores))]


def unseen_domain_predictions(features: np.ndarray, labels, groups,
                              choose: bool = True) -> tuple[list[int], list[int]]:
    """Gold and predicted labels of every left-out product domain, pooled.

    With ``choose`` the settings of each fold are chosen inside that fold (nested
    leave-one-domain-out over the remaining domains); otherwise they are ``UNTUNED``.
    """
    labels, groups = np.asarray(labels), np.asarray(groups)

    def settings_for(train: np.ndarray) -> HeadSettings:
        return choose_head_settings(features[train], labels[train], groups[train]) if choose else UNTUNED

    return _left_out_predictions(features, labels, groups, settings_for)

