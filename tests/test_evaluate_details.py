"""Per-class emotion and per-domain complaint scores: where the two short targets lose their points."""

from nlp.complaint_head import left_out_domains
from nlp.evaluate import Report, detail_metrics, systems_of


def test_emotion_details_are_each_class_f1_named_with_its_count():
    gold = [0, 0, 0, 1, 1, 2, 3, 3]
    predicted = [0, 0, 1, 1, 1, 0, 3, 3]
    details = detail_metrics("emotion", gold, predicted)
    assert details == {"emotion F1: anger (3)": 2 * 2 / (2 * 2 + 1 + 1),  # 2 right, 1 missed, 1 wrong
                       "emotion F1: joy (2)": 0.8, "emotion F1: optimism (1)": 0.0,
                       "emotion F1: sadness (2)": 1.0}


def test_complaint_details_score_each_domain_on_its_own_rows():
    gold = [1, 0, 1, 0, 1, 1]
    predicted = [1, 0, 1, 0, 0, 1]
    details = detail_metrics("complaint", gold, predicted, ["food"] * 4 + ["retail"] * 2)
    assert details["complaint macro-F1: food (4)"] == 1.0
    assert details["complaint macro-F1: retail (2)"] == 1 / 3  # F1 2/3 for complaints, 0 for the absent class
    assert detail_metrics("sentiment", [0, 1], [0, 1]) == {}


def test_left_out_domains_follow_the_fold_order_of_the_pooled_predictions():
    groups = ["food", "airline", "apparel", "food", "random_tweet", "apparel", "software"]
    assert left_out_domains(groups) == ["apparel", "apparel", "food", "food", "software"]


def test_details_are_kept_apart_from_the_headline_rows():
    report = Report()
    report.put("emotion macro-F1", "model int8", 0.72849)
    report.put("emotion F1: joy (97)", "model int8", 0.8, detail=True)
    report.put("emotion F1: joy (97)", "frozen+LR", None, detail=True)
    assert report.rows == {"emotion macro-F1": {"model int8": 0.7285}}
    assert systems_of(report.details) == ["model int8", "frozen+LR"]
