"""The analyzer: an ordered list of stages plus the model name and version it reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from nlp.language import LanguageStage
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


_CACHE: dict[str, Analyzer] = {}


def _lexicon(settings) -> Analyzer:
    from nlp.lexicon import MODEL_NAME, MODEL_VERSION, IntentRulesStage, LexiconSentimentStage

    return Analyzer(MODEL_NAME, MODEL_VERSION, [
        LanguageStage(settings.nlp.languages), LexiconSentimentStage(),
        IntentRulesStage(settings.nlp.complaint_threshold)])


def _model(settings) -> Analyzer:
    from nlp.entities import DEFAULT_ASPECTS, EntityStage, ruler_patterns
    from nlp.model import DEFAULT_MODEL, TransformerStage, available_cores, load_scorer

    nlp = settings.nlp
    # spaCy runs beside the model on one thread (nlp.stage groups them): leave it its core, as
    # one thread more than the cores made the whole pipeline 10-20% slower (measured with bench).
    threads = max(1, available_cores() - EntityStage.threads) if nlp.entities else None
    scorer = load_scorer(str(nlp.model_path or DEFAULT_MODEL), nlp.quantize, threads)
    stages: list[Stage] = [LanguageStage(nlp.languages), TransformerStage(scorer, nlp.complaint_threshold)]
    name, version = scorer.name, scorer.version
    if nlp.sentiment_model:
        from nlp.hf_sentiment import HuggingFaceSentimentStage

        stages.append(HuggingFaceSentimentStage(nlp.sentiment_model, nlp.allow_download))
        name += f"+sentiment:{nlp.sentiment_model}"
    if nlp.entities:
        aspects = nlp.aspects if nlp.aspects is not None else DEFAULT_ASPECTS
        stages.append(EntityStage(ruler_patterns(settings.brands, aspects)))
        version += "+spacy-en_core_web_sm-3.8.0"
    return Analyzer(name, version, stages)


def build_analyzer(settings) -> Analyzer:
    """The analyzer the settings ask for, built once per process and configuration."""
    key = settings.nlp.model_dump_json() + "|" + "|".join(b.model_dump_json() for b in settings.brands)
    if key not in _CACHE:
        _CACHE[key] = _model(settings) if settings.nlp.analyzer == "model" else _lexicon(settings)
    return _CACHE[key]
