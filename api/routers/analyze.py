"""/v1/analyze: score texts with the pipeline's own model, as `brandpulse nlp predict` does (nothing stored)."""

from __future__ import annotations

from typing import Annotated, Any, Optional, Union

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, field_validator, model_validator

from api.deps import needs, settings_of
from api.problems import ApiProblem
from brandpulse.core.settings import Settings
from brandpulse.services.access import Actor
from brandpulse.services.pipeline import analyze_texts

router = APIRouter(tags=["analyze"])
MAX_TEXT_CHARS = 10_000  # a long post; the model itself reads the first 4,000 characters


class TextItem(BaseModel):
    """A text to score: a bare string, or an object with its id and, if known, its language."""
    id: Optional[Union[str, int]] = Field(default=None, description="yours, echoed back; default: position")
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    language: Optional[str] = Field(default=None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
                                    description="ISO 639-1 code if known (else detected), e.g. en")

    @model_validator(mode="before")
    @classmethod
    def _bare_string(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is blank; send the words to score, or leave the item out")
        return value


class AnalyzeRequest(BaseModel):
    texts: list[TextItem] = Field(min_length=1, description="up to api.analyze_max_texts (1000) texts")


class Prediction(BaseModel):
    id: str
    language: Optional[str] = None
    sentiment: Optional[str] = None
    sentiment_scores: Optional[dict[str, float]] = None
    emotion: Optional[str] = None
    emotion_scores: Optional[dict[str, float]] = None
    complaint: bool
    complaint_score: Optional[float] = None
    intents: list[str]
    offensive: bool
    offensive_score: Optional[float] = None
    entities: list[dict[str, Any]]
    model: str
    error: Optional[str] = None


class AnalyzeResponse(BaseModel):
    items: list[Prediction]
    model: str


@router.post("/analyze", response_model=AnalyzeResponse, response_model_exclude_none=False,
             summary="Score texts with the analysis model")
def analyze(body: AnalyzeRequest, actor: Annotated[Actor, Depends(needs("analyze"))],
            settings: Annotated[Settings, Depends(settings_of)]) -> AnalyzeResponse:
    """Sentiment, emotion, complaint, intents, offensiveness and entities of each text, in order, from
    the same model and code path as the pipeline, in the `brandpulse nlp predict` contract. A text in
    a language the model does not support gets its language and no scores. Nothing is stored."""
    limit = settings.api.analyze_max_texts
    if len(body.texts) > limit:
        raise ApiProblem(422, "invalid-request", f"{len(body.texts)} texts in one request; send at most "
                         f"{limit} (api.analyze_max_texts) and the rest in further requests",
                         errors=[{"field": "body.texts", "message": f"at most {limit} items"}])
    items = [(str(i if t.id is None else t.id), t.text, t.language) for i, t in enumerate(body.texts)]
    predictions = analyze_texts(settings, actor, items)
    return AnalyzeResponse(items=[Prediction(**p) for p in predictions],
                           model=predictions[0]["model"] if predictions else "")
