"""The analyzer: an ordered list of stages plus the model name and version it reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from nlp.language import LanguageStage
from nlp.lexicon import MODEL_NAME, MODEL_VERSION, IntentRulesStage, LexiconSentimentStage
from nlp.stage import Doc, Stage, run_stages

RESULT_FIELDS = ("language", "sentiment", "sentiment_scores", "emotion", "emotion_scores",
                 "complaint", "complaint_score", "severity", "intents", "primary_intent",
                 "offensive", "offensive_score", "entities")


@dataclass
class Analyzer:
    """Runs its stages over batches; every result names the model that produced it."""
    model_name: str
    model_version: str
    stages: Sequence[Stage]

    def analyze(self, docs: Sequence[Doc]) -> list[Doc]:
        """Analyze a batch in place; failed docs carry ``error`` and no scores."""
        return run_stages(self.stages, docs)

    def result(self, doc: Doc) -> dict[str, Any]:
        """The stored fields of one analysed doc (unscored fields are None)."""
        out = {name: doc.fields.get(name) for name in RESULT_FIELDS}
        out["intents"] = out["intents"] or []
        out["entities"] = out["entities"] or []
        out["complaint"] = bool(out["complaint"])
        out["offensive"] = bool(out["offensive"])
        out["language_supported"] = doc.fields.get("language_supported", True)
        out["model_name"], out["model_version"] = self.model_name, self.model_version
        return out


_CACHE: dict[tuple, Analyzer] = {}


def build_analyzer(nlp_settings) -> Analyzer:
    """The analyzer the settings ask for, built once per process."""
    key = (nlp_settings.analyzer, tuple(nlp_settings.languages), nlp_settings.complaint_threshold)
    if key not in _CACHE:
        stages: list[Stage] = [LanguageStage(nlp_settings.languages), LexiconSentimentStage(),
                               IntentRulesStage(nlp_settings.complaint_threshold)]
        _CACHE[key] = Analyzer(MODEL_NAME, MODEL_VERSION, stages)
    return _CACHE[key]
