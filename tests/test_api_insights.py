"""The API's insight resources over real HTTP: brands, share of voice, influencers, reports, analyze."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime, time, timedelta, timezone

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from brandpulse.core.errors import BrandpulseError
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.reports.export import BOARD_COLUMNS
from brandpulse.services.influence import refresh_influence
from brandpulse.services.pipeline import analyze_pending
from brandpulse.services.voice import share_of_voice
from store.brands import sync_brands
from store.engine import session_scope
from store.mentions import save_mentions
from store.queries import MentionFilter, what_is_the_share_of_voice
from tests.api_client import api_server, client, token_for  # noqa: F401

NOW = datetime.now(timezone.utc).replace(microsecond=0)
RIVALS = [{"name": "Vertex Telecom", "query": '"vertex telecom" OR vertextelecom', "handles": {"x": "VertexTel"}},
          {"name": "Orbit Wireless", "query": '"orbit wireless" OR orbitwireless'}]  # Orbit never speaks
BRANDS = [{"name": "Nimbus Mobile", "query": '"nimbus mobile"', "handles": {"x": "NimbusMobile"},
           "products": ["eSIM"], "competitors": RIVALS}]
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# under xdist, in the demo's worker, where the model's libraries (20 s to import) are loaded already
BESIDE_THE_DEMO = pytest.mark.xdist_group("demo") if os.environ.get("PYTEST_XDIST_WORKER") else lambda test: test


def save(url, settings, posts):
    """posts: (native id, brand, text, days ago, network, handle, followers)."""
    with session_scope(url) as session:
        sync_brands(session, settings.brands)
        save_mentions(session, [MentionRecord(
            network=network, native_id=nid, text=text, brands=[brand], created_at=NOW - timedelta(days=days),
            author=AuthorRecord(network, f"{network}-{handle}", handle=handle, followers=followers))
            for nid, brand, text, days, network, handle, followers in posts])


@pytest.fixture
def market(write_config, database_url):
    """Nimbus Mobile (8 mentions, one 40 days old) against Vertex Telecom (3) and a silent Orbit Wireless."""
    settings = write_config(brands=BRANDS)
    words = ["love the new eSIM, great coverage", "terrible outage again, awful support", "switching plans today"]
    posts = [(f"n{i}", "Nimbus Mobile", f"Nimbus Mobile {words[i % 3]} {i}", i, "x" if i % 2 else "reddit",
              f"fan{i}", 50 + i) for i in range(7)]
    posts.append(("old", "Nimbus Mobile", "Nimbus Mobile long ago", 40, "x", "fan0", 50))
    posts += [(f"v{i}", "Vertex Telecom", f"Vertex Telecom {words[i]} {i}", 2 * i + 1, "x", f"vfan{i}", 70)
              for i in range(3)]
    save(database_url, settings, posts)
    analyze_pending(settings)  # lexicon sentiment, then the daily rollups the page reads
    return settings


def test_brands_and_share_of_voice_are_the_dashboards_numbers_with_a_silent_rival_at_zero(
        market, database_url, api_server):
    token = token_for(market, "mia", "marketing", ["brands:read"])
    with client(api_server(market), token) as http:
        brands = http.get("/brands")
        assert brands.status_code == 200, brands.text
        listed = {b["name"]: b for b in brands.json()["items"]}
        assert [b["name"] for b in brands.json()["items"]][0] == "Nimbus Mobile"
        nimbus, orbit = listed["Nimbus Mobile"], listed["Orbit Wireless"]
        assert nimbus["own"] and nimbus["handles"] == {"x": "NimbusMobile"} and nimbus["products"] == ["eSIM"]
        assert nimbus["rivals"] == ["Orbit Wireless", "Vertex Telecom"] and nimbus["query"] == '"nimbus mobile"'
        assert not orbit["own"] and orbit["rival_of"] == ["Nimbus Mobile"]
        assert listed["Vertex Telecom"]["handles"] == {"x": "VertexTel"}

        since, until = NOW.date() - timedelta(days=14), NOW.date()
        start, end = (datetime.combine(d, time.min, timezone.utc) for d in (since, until))
        compared = ["Nimbus Mobile", "Orbit Wireless", "Vertex Telecom"]
        for by, sentiment in (("week", None), ("day", None), ("network", None), ("all", "negative")):
            params = {"since": since.isoformat(), "until": until.isoformat(), "by": by}
            answer = http.get("/brands/nimbus mobile/share-of-voice", params=params | (
                {"sentiment": sentiment} if sentiment else {}))
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["brand"] == "Nimbus Mobile" and sorted(body["compared"]) == compared
            page = share_of_voice(market, "Nimbus Mobile", start, end, by=by, sentiment=sentiment)  # as data.voice
            got = {(r["period"], r["brand"]): (r["mentions"], pytest.approx(r["share"])) for r in body["rows"]}
            assert {k: v for k, v in got.items() if v[0]} == {
                (r["period"], r["brand"]): (r["mentions"], r["share"]) for r in page if r["mentions"]}, by
            periods = {r["period"] for r in page}
            assert periods and set(got) == {(p, b) for p in periods for b in compared}, by  # silent ones at 0
            assert all(got[(period, "Orbit Wireless")] == (0, 0.0) for period in periods), by

        whole = http.get("/brands/Nimbus Mobile/share-of-voice",
                         params={"since": since.isoformat(), "until": until.isoformat(), "by": "all"}).json()
        with session_scope(database_url) as session:  # the Overview page's share of voice, same period
            ids = tuple(b["id"] for b in listed.values())
            overview = what_is_the_share_of_voice(session, ids, MentionFilter(since=start, until=end + timedelta(days=1)))
        assert {r["brand"]: r["mentions"] for r in whole["rows"]} == {r["brand"]: r["mentions"] for r in overview}
        assert {r["brand"]: r["mentions"] for r in whole["rows"]} == {
            "Nimbus Mobile": 7, "Vertex Telecom": 3, "Orbit Wireless": 0}

        unknown = http.get("/brands/Nobody/share-of-voice")
        assert unknown.status_code == 404 and "Nimbus Mobile" in unknown.json()["detail"]
        backwards = http.get("/brands/Nimbus Mobile/share-of-voice", params={"since": "2024-05-02",
                                                                            "until": "2024-05-01"})
        assert backwards.status_code == 422 and "after" in backwards.json()["detail"]
        bad = http.get("/brands/Nimbus Mobile/share-of-voice", params={"by": "month"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.by"


@pytest.fixture
def crowd(write_config, database_url):
    """Nine authors about Nimbus Mobile, five of them identical (tied scores), scored for influence."""
    settings = write_config(brands=BRANDS)
    posts = [(f"t{i}", "Nimbus Mobile", f"Nimbus Mobile is fine {i}", 1, "x", f"twin{i}", 40) for i in range(5)]
    posts += [(f"m{i}", "Nimbus Mobile", f"Nimbus Mobile eSIM review {i}", i, "x", f"micro{i}", 20_000 + i)
              for i in range(3)]
    posts += [("big", "Nimbus Mobile", "Nimbus Mobile coverage test", 20, "reddit", "big", 150_000)]
    save(database_url, settings, posts)
    refresh_influence(settings, now=NOW)
    return settings


def test_influencer_pages_neither_skip_nor_repeat_and_the_report_is_the_dashboards_file(
        crowd, database_url, api_server):
    base = api_server(crowd)
    token = token_for(crowd, "bea", "brand_manager", ["influencers:read", "reports:export"])
    with client(base, token) as http:
        everyone = http.get("/influencers", params={"brand": "Nimbus Mobile", "limit": 100}).json()["items"]
        assert len(everyone) == 9
        assert [(-r["score"], r["author_id"]) for r in everyone] == sorted((-r["score"], r["author_id"])
                                                                           for r in everyone)
        seen, cursor = [], None
        while True:
            page = http.get("/influencers", params={"brand": "Nimbus Mobile", "limit": 2}
                            | ({"cursor": cursor} if cursor else {})).json()
            seen += [r["author_id"] for r in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        assert seen == [r["author_id"] for r in everyone]  # ties (five twins) cross page boundaries
        micro = http.get("/influencers", params={"brand": "Nimbus Mobile", "tier": "micro"}).json()["items"]
        assert sorted(r["handle"] for r in micro) == ["micro0", "micro1", "micro2"]
        recent = http.get("/influencers", params={"brand": "Nimbus Mobile",
                                                  "since": (NOW - timedelta(days=10)).isoformat()}).json()["items"]
        assert "big" not in {r["handle"] for r in recent} and len(recent) == 8
        assert everyone[0]["handle"] == "big" and set(everyone[0]["bot_signals"]) >= {"posting_rate"}

        sheet = http.get("/influencers/report", params={"brand": "nimbus mobile", "format": "csv"})
        assert sheet.status_code == 200, sheet.text
        assert sheet.headers["content-type"].startswith("text/csv")
        assert sheet.headers["content-disposition"].startswith('attachment; filename="influencers-nimbus-mobile.csv"')
        rows = list(csv.reader(io.StringIO(sheet.text)))
        assert tuple(rows[0]) == BOARD_COLUMNS and rows[1][1] == "big" and len([r for r in rows[1:10] if r]) == 9
        book = http.get("/influencers/report", params={"brand": "Nimbus Mobile", "format": "xlsx"})
        assert book.headers["content-type"] == \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert 'filename="influencers-nimbus-mobile.xlsx"' in book.headers["content-disposition"]
        workbook = load_workbook(io.BytesIO(book.content))
        board = workbook["Leaderboard"]
        assert tuple(c.value for c in board[1]) == BOARD_COLUMNS and board.cell(2, 2).value == "big"
        wrong = http.get("/influencers/report", params={"brand": "Nimbus Mobile", "format": "docx"})
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "query.format"


def test_scopes_beyond_the_role_are_refused_and_a_missing_scope_is_a_403_problem(crowd, api_server):
    with pytest.raises(BrandpulseError, match="does not allow reports:export"):
        token_for(crowd, "mia", "marketing", ["influencers:read", "reports:export"])
    with pytest.raises(BrandpulseError, match="does not allow influencers:read"):
        token_for(crowd, "ana", "care_agent", ["influencers:read"], team="care")
    token = token_for(crowd, "max", "marketing", ["brands:read"])
    with client(api_server(crowd), token) as http:
        for path, params, scope in (("/influencers", {"brand": "Nimbus Mobile"}, "influencers:read"),
                                    ("/influencers/report", {"brand": "Nimbus Mobile"}, "reports:export"),
                                    ("/analyze", None, "analyze")):
            answer = http.post(path, json={"texts": ["hi"]}) if params is None else http.get(path, params=params)
            assert answer.status_code == 403, (path, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert scope in answer.json()["detail"] and answer.json()["status"] == 403


@SQLITE_ONLY
def test_analyze_refuses_too_many_empty_or_overlong_texts_naming_the_field(settings, api_server):
    token = token_for(settings, "mia", "marketing", ["analyze"])
    with client(api_server(settings), token) as http:
        many = http.post("/analyze", json={"texts": ["Nimbus Mobile ok"] * 1001})
        assert many.status_code == 422 and many.headers["content-type"] == "application/problem+json"
        assert many.json()["errors"] == [{"field": "body.texts", "message": "at most 1000 items"}]
        assert "1001 texts" in many.json()["detail"]
        for texts, field in ((["a", "b", "c", ""], "body.texts.3.text"),
                             ([{"id": "x", "text": "   "}], "body.texts.0.text"),
                             (["ok", "y" * 10_001], "body.texts.1.text"),
                             ([], "body.texts")):
            answer = http.post("/analyze", json={"texts": texts})
            assert answer.status_code == 422, answer.text
            assert [e["field"] for e in answer.json()["errors"]] == [field], answer.json()


@SQLITE_ONLY
@BESIDE_THE_DEMO
def test_analyze_gives_what_nlp_predict_gives_with_the_pipelines_model(write_config, api_server, tmp_path):
    from brandpulse.cli.main import app

    settings = write_config(nlp={"analyzer": "model"})
    texts = ["I love Nimbus Mobile, the eSIM setup took a minute", "Nimbus Mobile billing is a scam, refund me now!",
             "When does the Nimbus Mobile 5G plan launch in Leeds?", "Mein Vertrag bei Nimbus Mobile ist furchtbar"]
    source = tmp_path / "texts.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("id", "text"), *((str(i), t) for i, t in enumerate(texts))])
    ran = CliRunner().invoke(app, ["nlp", "predict", str(source), "--output", str(tmp_path / "out.jsonl")])
    assert ran.exit_code == 0, ran.output
    expected = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    token = token_for(settings, "ana", "care_agent", ["analyze"], team="care")
    with client(api_server(settings), token) as http:
        answer = http.post("/analyze", json={"texts": [texts[0], *({"id": i, "text": t} for i, t in
                                                                   enumerate(texts) if i)]})
        assert answer.status_code == 200, answer.text
        got = answer.json()
        assert got["model"] == expected[0]["model"] and "+int8" in got["model"]
        for mine, theirs in zip(got["items"], expected, strict=True):
            for key in ("id", "language", "sentiment", "emotion", "complaint", "intents", "offensive",
                        "entities", "model"):
                assert mine[key] == theirs[key], (key, mine, theirs)
            for key in ("sentiment_scores", "emotion_scores"):
                assert mine[key] == (pytest.approx(theirs[key], abs=1e-4) if theirs[key] else None)
        assert got["items"][1]["complaint"] and got["items"][1]["sentiment"] == "negative"
        assert got["items"][3]["language"] == "de" and got["items"][3]["sentiment"] is None  # not scored
        hinted = http.post("/analyze", json={"texts": [{"id": "g", "text": texts[3], "language": "en"}]}).json()
        assert hinted["items"][0]["language"] == "en" and hinted["items"][0]["sentiment"] in (
            "negative", "neutral", "positive")
