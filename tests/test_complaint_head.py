"""The complaint head's settings (regularisation, product-domain weight) and their nested leave-one-domain-out choice."""

import numpy as np
from sklearn.metrics import f1_score

from nlp.complaint_head import UNTUNED, choose_head_settings, sample_weights, unseen_domain_predictions


def unseen_domain_macro_f1(features, labels, groups, choose: bool = True) -> float:
    """Macro-F1 over the pooled left-out predictions, as `brandpulse nlp evaluate` reports it."""
    return f1_score(*unseen_domain_predictions(features, labels, groups, choose), average="macro")


def two_sources(seed: int = 7):
    """A big narrow source whose complaints follow x, and product domains whose complaints follow y."""
    rng = np.random.default_rng(seed)
    airline = rng.normal(size=(2000, 2))
    product = rng.normal(size=(240, 2))
    features = np.vstack([airline, product])
    labels = np.concatenate([(airline[:, 0] > 0), (product[:, 1] > 0)]).astype(int)
    groups = np.array(["airline"] * 2000 + ["apparel", "electronics", "food", "software"] * 60)
    return features, labels, groups


def test_only_product_domain_rows_are_weighted():
    groups = np.array(["airline", "food", "random_tweet", "software", "fincorp"])
    assert sample_weights(groups, 4.0).tolist() == [1.0, 4.0, 1.0, 4.0, 1.0]


def test_the_weight_that_generalises_to_left_out_domains_is_chosen():
    features, labels, groups = two_sources()
    assert choose_head_settings(features, labels, groups).product_weight >= 16.0
    nested = unseen_domain_macro_f1(features, labels, groups)
    unweighted = unseen_domain_macro_f1(features, labels, groups, choose=False)
    assert nested > unweighted + 0.1


def test_one_product_domain_leaves_nothing_to_choose_from():
    features, labels, groups = two_sources()
    groups = np.where(groups == "airline", "airline", "food")
    assert choose_head_settings(features, labels, groups) == UNTUNED


def thinly_spread_signal(seed: int = 3):
    """Five product domains of 40 rows whose complaint signal is spread thinly over 120
    columns, as in an embedding: a loosely regularised head fits the noise of its training
    rows, a strongly regularised one keeps to the direction shared by every domain."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=200)
    features = rng.normal(size=(200, 120)) + 0.12 * (2 * labels - 1)[:, None]
    groups = np.repeat(["apparel", "electronics", "food", "retail", "software"], 40)
    return features, labels, groups


def test_strong_regularisation_is_chosen_when_the_signal_is_thin():
    features, labels, groups = thinly_spread_signal()
    assert choose_head_settings(features, labels, groups).c < 1.0
    assert unseen_domain_macro_f1(features, labels, groups) > unseen_domain_macro_f1(
        features, labels, groups, choose=False) + 0.02
