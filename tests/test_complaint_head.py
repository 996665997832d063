"""The complaint head's product-domain weighting and its nested leave-one-domain-out choice."""

import numpy as np

from nlp.complaint_head import choose_product_weight, sample_weights, unseen_domain_macro_f1


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
    assert choose_product_weight(features, labels, groups) == 16.0
    nested = unseen_domain_macro_f1(features, labels, groups)
    unweighted = unseen_domain_macro_f1(features, labels, groups, choose_weight=False)
    assert nested > unweighted + 0.1


def test_one_product_domain_leaves_nothing_to_choose_from():
    features, labels, groups = two_sources()
    groups = np.where(groups == "airline", "airline", "food")
    assert choose_product_weight(features, labels, groups) == 1.0
