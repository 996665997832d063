"""The complaint head: balanced logistic regression on pooled embeddings, weighted towards brand domains.

The complaint data mixes three sources: the product-domain tweets of Preoţiuc-Pietro et
al. (plus random tweets as easy negatives), airline tweets and FINCORP. The two large
narrow sources swamp the product domains, whose hard negatives (questions and remarks to
brands) matter most on unseen brands. So product-domain rows get a weight chosen by
leave-one-domain-out over the product domains, and the evaluation nests that choice:
the held-out domain never influences the weight used to predict it.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from nlp.datasets import COMPLAINT_DOMAINS

PRODUCT_WEIGHTS = (1.0, 4.0, 16.0)


def sample_weights(groups: np.ndarray, product_weight: float) -> np.ndarray:
    """``product_weight`` for rows of a product domain, 1 for every other row."""
    return np.where(np.isin(groups, COMPLAINT_DOMAINS), product_weight, 1.0)


def fit_complaint_head(features: np.ndarray, labels, groups, c: float = 1.0,
                       product_weight: float = 1.0) -> LogisticRegression:
    """Balanced logistic regression on embeddings; returns the fitted classifier."""
    weights = sample_weights(np.asarray(groups), product_weight)
    return LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(
        features, np.asarray(labels), sample_weight=weights)


def domain_folds(groups: np.ndarray) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(domain, train rows, test rows) leaving out each product domain present in turn."""
    return [(domain, np.where(groups != domain)[0], np.where(groups == domain)[0])
            for domain in COMPLAINT_DOMAINS if (groups == domain).any()]


def _left_out_predictions(features, labels, groups, c, weight_for) -> tuple[list[int], list[int]]:
    """Gold and predicted labels of every left-out product domain; ``weight_for(train rows)``."""
    gold: list[int] = []
    predicted: list[int] = []
    for _, train, test in domain_folds(groups):
        head = fit_complaint_head(features[train], labels[train], groups[train], c, weight_for(train))
        gold += labels[test].tolist()
        predicted += head.predict(features[test]).tolist()
    return gold, predicted


def choose_product_weight(features: np.ndarray, labels, groups, c: float = 1.0) -> float:
    """The product-domain weight with the best macro-F1 over left-out product domains."""
    from sklearn.metrics import f1_score

    labels, groups = np.asarray(labels), np.asarray(groups)
    if len(domain_folds(groups)) < 2:
        return 1.0
    scores = {weight: f1_score(*_left_out_predictions(features, labels, groups, c, lambda _, w=weight: w),
                               average="macro") for weight in PRODUCT_WEIGHTS}
    return max(scores, key=scores.get)


def unseen_domain_macro_f1(features: np.ndarray, labels, groups, c: float = 1.0,
                           choose_weight: bool = True) -> float:
    """Macro-F1 over the pooled predictions of every left-out product domain.

    With ``choose_weight`` the product weight of each fold is chosen inside that fold
    (nested leave-one-domain-out over the remaining domains); otherwise it is 1.
    """
    from sklearn.metrics import f1_score

    labels, groups = np.asarray(labels), np.asarray(groups)

    def weight_for(train: np.ndarray) -> float:
        return choose_product_weight(features[train], labels[train], groups[train], c) if choose_weight else 1.0

    return f1_score(*_left_out_predictions(features, labels, groups, c, weight_for), average="macro")
