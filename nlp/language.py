"""Offline language identification (py3langid), with the source's own tag preferred."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

from nlp.stage import Doc

UNDETERMINED = "und"
MIN_LETTERS = 12
MIN_CONFIDENCE = 0.6
_NOISE = re.compile(r"https?://\S+|[@#]\w+")


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str, float]:
    """ISO 639-1 code and confidence; ``und`` when the text is too short or ambiguous."""
    cleaned = _NOISE.sub(" ", text or "")
    if sum(ch.isalpha() for ch in cleaned) < MIN_LETTERS:
        return UNDETERMINED, 0.0
    code, confidence = _identifier().classify(cleaned)
    return (code, float(confidence)) if confidence >= MIN_CONFIDENCE else (UNDETERMINED, float(confidence))


class LanguageStage:
    """Sets ``language`` and marks docs in unsupported languages so nothing scores them."""

    name = "language"
    reads = ("text", "source_language")
    writes = ("language", "language_supported")

    def __init__(self, supported: Sequence[str]) -> None:
        self.supported = {code.lower() for code in supported}

    def process(self, docs: Sequence[Doc]) -> None:
        detected: dict[str, str] = {}  # reposts are identified once
        for doc in docs:
            given = (doc.fields.get("source_language") or "").lower().split("-")[0]
            language = given if given and given not in ("und", "zxx", "qme", "qam") else None
            if language is None:
                if doc.text not in detected:
                    detected[doc.text] = detect_language(doc.text)[0]
                language = detected[doc.text]
            supported = language == UNDETERMINED or language in self.supported
            doc.fields["language"] = language
            doc.fields["language_supported"] = supported
            doc.skip_scoring = not supported
