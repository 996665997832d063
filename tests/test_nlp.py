"""The committed multi-task model: obvious cases, the predict contract, int8 vs fp32, odd texts."""

import csv
import json

import numpy as np
import pytest

from brandpulse.core.settings import Settings
from nlp.analyzer import build_analyzer
from nlp.model import DEFAULT_MODEL, load_scorer
from nlp.predict import predict_file
from nlp.stage import Doc

pytestmark = pytest.mark.skipif(not (DEFAULT_MODEL / "heads.safetensors").exists(),
                                reason="no committed model")
SETTINGS = Settings.model_validate({"brands": [{
    "name": "Nimbus Mobile", "query": '"nimbus mobile"', "handles": {"x": "NimbusMobile"},
    "products": ["family plan"], "competitors": [{"name": "Vertex Telecom", "query": "vertex"}]}]})
OBVIOUS = [
    ("I absolutely love this, best purchase ever! Thank you so much", "positive"),
    ("This is the worst service I have ever had, I am furious", "negative"),
    ("The store opens at 9am on Monday.", "neutral"),
]
CONTRACT_KEYS = {"id", "language", "sentiment", "sentiment_scores", "emotion", "emotion_scores",
                 "complaint", "complaint_score", "intents", "offensive", "offensive_score", "entities",
                 "model"}


def analyze(texts):
    analyzer = build_analyzer(SETTINGS)
    docs = [Doc(key=i, text=t) for i, t in enumerate(texts)]
    analyzer.analyze(docs)
    return analyzer, docs


def test_obvious_sentiments_and_intents():
    analyzer, docs = analyze([t for t, _ in OBVIOUS] + [
        "@NimbusMobile you charged me twice this month and nobody answers. I want a refund now!",
        "You should add a dark mode to the app, it would be great",
        "How do I transfer my number?",
        "you are a pathetic idiot and a disgrace"])
    assert [d.fields["sentiment"] for d in docs[:3]] == [label for _, label in OBVIOUS]
    complaint, suggestion, question, insult = docs[3:]
    assert complaint.fields["complaint"] and complaint.fields["intents"][0] == "complaint"
    assert not docs[0].fields["complaint"] and "praise" in docs[0].fields["intents"]
    assert "suggestion" in suggestion.fields["intents"]
    assert "question" in question.fields["intents"]
    assert insult.fields["offensive"]
    assert analyzer.model_name == "brandpulse-minilm-multitask"


def test_entities_and_aspects_come_from_config():
    _, (doc,) = analyze(["Nimbus Mobile doubled my bill, switching to Vertex and their family plan"])
    found = {(e["text"], e["label"]) for e in doc.fields["entities"]}
    assert {("Nimbus Mobile", "BRAND"), ("Vertex Telecom", "COMPETITOR"), ("family plan", "PRODUCT"),
            ("billing", "ASPECT")} <= found


def test_unsupported_language_gets_no_made_up_sentiment():
    _, (doc,) = analyze(["Das ist wirklich nicht gut, ich bin sehr enttäuscht von diesem Laden"])
    assert doc.fields["language"] == "de" and doc.fields.get("sentiment") is None


def test_predict_contract_in_input_order(tmp_path):
    source = tmp_path / "in.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "extra"])
        for i, text in enumerate(["", "😡😡😡🔥", "great " * 10_000, "refund please!!",
                                  "¿Dónde está mi pedido? Llevo dos semanas esperando y nadie me responde en el servicio de atención"]):
            writer.writerow([f"r{i}", text, "x"])
    raw = source.read_bytes() + b"r5,broken \xff\xfe bytes,x\n"
    source.write_bytes(raw)
    out = tmp_path / "out.jsonl"
    assert predict_file(SETTINGS, source, out) == 6
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"r{i}" for i in range(6)]
    for row in rows:
        assert CONTRACT_KEYS <= set(row) and "error" not in row
        assert row["model"].startswith("brandpulse-minilm-multitask@")
    assert set(rows[3]["sentiment_scores"]) == {"negative", "neutral", "positive"}
    assert rows[4]["language"] == "es" and rows[4]["sentiment"] is None
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(json.dumps({"id": 7, "text": "love it"}) + "\n")
    predict_file(SETTINGS, jsonl, out)
    assert json.loads(out.read_text())["id"] == "7"


def test_int8_agrees_with_fp32():
    texts = [t for t, _ in OBVIOUS] * 3 + [
        "my parcel never arrived and support hung up on me", "thanks for the quick fix!",
        "is the app down for anyone else?", "meh, it's ok I guess", "please bring back the old menu",
        "@user this is a joke, cancelled my order twice", "new store opening downtown next week"]
    fp32 = load_scorer(str(DEFAULT_MODEL), False).score(texts).probabilities
    int8 = load_scorer(str(DEFAULT_MODEL), True).score(texts).probabilities
    for task in ("sentiment", "complaint", "emotion"):
        # a near tie (e.g. 0.427 / 0.428) may flip with any ONNX Runtime build; the int8 model must
        # agree wherever fp32 has a clear winner, and move probabilities little everywhere
        top2 = np.sort(fp32[task], axis=1)[:, -2:]
        clear = top2[:, 1] - top2[:, 0] >= 0.2
        assert clear.sum() >= len(texts) // 2
        assert (fp32[task].argmax(1) == int8[task].argmax(1))[clear].mean() >= 0.9
        assert np.abs(fp32[task] - int8[task]).mean() < 0.05


def test_duplicate_texts_are_scored_once_and_identically():
    scorer = load_scorer(str(DEFAULT_MODEL), True)
    probs = scorer.score(["same text", "other text", "same text"]).probabilities["sentiment"]
    assert np.array_equal(probs[0], probs[2])


def test_any_local_hugging_face_sentiment_model_plugs_in(tmp_path):
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from nlp.multitask import base_model_dir

    labels = {0: "Negative", 1: "Neutral", 2: "Positive"}
    config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
                        num_labels=3, id2label=labels, label2id={v: k for k, v in labels.items()})
    BertForSequenceClassification(config).save_pretrained(tmp_path / "tiny-sentiment")
    AutoTokenizer.from_pretrained(base_model_dir()).save_pretrained(tmp_path / "tiny-sentiment")
    settings = Settings.model_validate({"nlp": {"sentiment_model": str(tmp_path / "tiny-sentiment"),
                                                "entities": False}})
    analyzer = build_analyzer(settings)
    docs = [Doc(key=0, text="good morning everyone, lovely day")]
    analyzer.analyze(docs)
    scores = docs[0].fields["sentiment_scores"]
    assert set(scores) == {"negative", "neutral", "positive"} and abs(sum(scores.values()) - 1) < 1e-5
    assert analyzer.model_name.endswith(f"+sentiment:{tmp_path / 'tiny-sentiment'}")


def test_missing_plugged_model_is_a_clear_error():
    from brandpulse.core.errors import AnalysisError

    settings = Settings.model_validate({"nlp": {"sentiment_model": "/nonexistent/model", "entities": False}})
    with pytest.raises(AnalysisError, match="local path"):
        build_analyzer(settings)
