"""The Reddit collector: real praw against a local server replaying recorded Reddit responses."""

import json

import pytest
from sqlalchemy import func, select

from brandpulse.services.collecting import collect_all
from fakeserver import FakeServer, Reply, body_of, recorded
from store.collectors import which_sources_report_health
from store.engine import session_scope
from store.models import Mention

TOKEN = Reply(200, json.dumps({"access_token": "t0k3n", "token_type": "bearer", "expires_in": 3600,
                               "scope": "*"}))
SEARCH = "/r/all/search/"
COMMENTS = "/r/brandtest/comments/"
STREAM = "reddit/comment_stream_pages.json"


def comment_page(index: int) -> Reply:
    reply = recorded(STREAM, index)
    reply.body = reply.body.replace("<TEST_SUBREDDIT>", "brandtest")
    return reply


@pytest.fixture
def server():
    with FakeServer() as fake:
        fake.route("POST", "/api/v1/access_token", TOKEN)
        yield fake


@pytest.fixture
def reddit_settings(write_config, server, monkeypatch):
    for name, value in [("CLIENT_ID", "id"), ("CLIENT_SECRET", "secret"), ("USER_AGENT", "brandpulse-tests")]:
        monkeypatch.setenv(f"BRANDPULSE_REDDIT_{name}", value)

    def make(query="praw OR oauth OR reddit OR the", **reddit):
        source = {"enabled": True, "oauth_url": server.url, "reddit_url": server.url, **reddit}
        return write_config(brands=[{"name": "PRAW", "query": query}], sources={"reddit": source})
    return make


def count(url):
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(Mention)).scalar()


def test_search_is_stored_and_not_repeated(reddit_settings, server, database_url):
    server.route("GET", SEARCH, recorded("reddit/subreddit_search.json"))
    (result,) = collect_all(reddit_settings(query="praw"))
    total = len(body_of("reddit/subreddit_search.json")["data"]["children"])
    assert result.fetched == total and result.stored + result.rejected_by_query == total
    assert result.stored >= 1
    (call,) = server.calls(SEARCH)
    assert call["query"]["sort"] == ["new"] and call["query"]["q"] == ["praw"]
    assert call["headers"]["Authorization"] == "bearer t0k3n"
    (again,) = collect_all(reddit_settings(query="praw"))
    assert again.fetched == 0 and again.stored == 0  # every fullname already seen
    with session_scope(database_url) as session:
        post = session.execute(select(Mention).where(Mention.native_id == "t3_3gpbiu")).scalar_one()
    assert post.url.startswith("https://www.reddit.com/r/redditdev/comments/3gpbiu/")
    assert post.text.startswith("[PRAW][OAuth2Util]") and post.replies == 21


def test_comment_streams_dedupe_repeated_items(reddit_settings, server, database_url):
    empty = Reply(200, json.dumps({"kind": "Listing", "data": {"children": [], "after": None}}))
    server.route("GET", SEARCH, empty)
    server.route("GET", COMMENTS, comment_page(0), comment_page(1))
    settings = reddit_settings(watch_subreddits=["brandtest"])
    (first,) = collect_all(settings)
    (second,) = collect_all(settings)  # page 2 repeats page 1 entirely
    assert first.fetched == 40 and second.fetched == 0
    assert count(database_url) == first.stored
    from brandpulse.core.query import parse_query

    query = parse_query("praw OR oauth OR reddit OR the")
    matching = [c["data"] for c in body_of(STREAM)["data"]["children"] if query.matches(c["data"]["body"])]
    assert first.stored == len(matching) > 0
    with session_scope(database_url) as session:
        comment = session.execute(select(Mention).where(Mention.native_id == matching[0]["name"])).scalar_one()
    assert comment.in_reply_to_id == matching[0]["parent_id"]
    assert comment.conversation_id == matching[0]["link_id"]


def test_429_holds_the_source_until_retry_after(reddit_settings, server, database_url):
    server.route("GET", SEARCH, recorded("reddit/too_many_requests.json"))
    (result,) = collect_all(reddit_settings())
    assert "429" in result.errors[0]
    with session_scope(database_url) as session:
        (health,) = which_sources_report_health(session)
    assert health.state == "rate_limited" and health.rate_limited_until is not None


@pytest.mark.slow
def test_503_sequence_is_retried_by_prawcore_then_recorded(reddit_settings, server, database_url):
    outage = recorded("reddit/service_unavailable.json")
    server.route("GET", SEARCH, outage, outage, recorded("reddit/subreddit_search.json"))
    (result,) = collect_all(reddit_settings(query="praw"))
    assert not result.errors and result.stored >= 1
    server.route("GET", SEARCH, outage)
    (failed,) = collect_all(reddit_settings(query="praw"))
    assert "ServerError" in failed.errors[0]


def test_missing_credentials_name_the_variables(write_config, monkeypatch):
    from brandpulse.core.errors import MissingSecretError

    for name in ("CLIENT_ID", "CLIENT_SECRET", "USER_AGENT"):
        monkeypatch.delenv(f"BRANDPULSE_REDDIT_{name}", raising=False)
    with pytest.raises(MissingSecretError, match="BRANDPULSE_REDDIT_CLIENT_ID"):
        collect_all(write_config(sources={"reddit": {"enabled": True}}))


def test_author_karma_is_reach_and_unknown_karma_never_erases_it(reddit_settings, server, database_url):
    from datetime import datetime, timezone

    from store.models import Author

    about = json.loads(recorded("reddit/redditor_about.json").body)["data"]
    server.route("GET", SEARCH, recorded("reddit/subreddit_search.json"))
    server.route("GET", "/user/dClauzel/about/", recorded("reddit/redditor_about.json"))
    collect_all(reddit_settings(query="praw OR oauth OR reddit OR the", karma_lookups_per_pass=3))
    lookups = [r["path"] for r in server.requests if r["path"].startswith("/user/")]
    assert len(lookups) == 3  # the budget per pass; the others wait for a later pass
    with session_scope(database_url) as session:
        authors = {a.handle: a for a in session.execute(select(Author)).scalars()}
    known = authors["dClauzel"]
    assert known.followers == about["link_karma"] + about["comment_karma"]
    assert known.created_at == datetime.fromtimestamp(about["created_utc"], timezone.utc)
    assert all(a.followers is None for handle, a in authors.items() if handle != "dClauzel")  # 404: unknown
    server.route("GET", "/user/dClauzel/about/", Reply(404, "{}"))
    fresh = body_of("reddit/subreddit_search.json")
    for child in fresh["data"]["children"]:  # new posts by the same authors
        child["data"]["id"] += "x"
        child["data"]["name"] += "x"
        child["data"]["created_utc"] = 1_500_000_000.0  # after the first pass's newest post
    server.route("GET", SEARCH, Reply(200, json.dumps(fresh)))
    (second,) = collect_all(reddit_settings(query="praw OR oauth OR reddit OR the", author_karma=False))
    assert second.stored >= 1
    with session_scope(database_url) as session:
        again = session.execute(select(Author).where(Author.handle == "dClauzel")).scalar_one()
        posts = session.execute(select(func.count()).select_from(Mention)
                                .where(Mention.author_id == again.id)).scalar()
    assert posts == 2  # the author was saved again, without karma this time
    assert again.followers == known.followers  # ...and what was known is kept


def test_an_empty_search_list_means_no_search(reddit_settings, server, database_url):
    server.route("GET", COMMENTS, comment_page(0))
    (result,) = collect_all(reddit_settings(search_subreddits=[], watch_subreddits=["brandtest"]))
    assert not any(r["path"].endswith("/search/") for r in server.requests)
    assert result.fetched == 40 and result.stored >= 1 and not result.errors


@pytest.mark.parametrize("failure", [Reply(403, json.dumps({"message": "Forbidden", "error": 403})),
                                     Reply(200, json.dumps({"kind": "Listing", "data": "not a listing"}))])
def test_a_failed_search_keeps_the_watched_comment_streams(reddit_settings, server, database_url, failure):
    server.route("GET", SEARCH, failure)
    server.route("GET", COMMENTS, comment_page(0))
    (result,) = collect_all(reddit_settings(watch_subreddits=["brandtest"]))
    assert result.outcome == "ok" and result.fetched == 40 and count(database_url) == result.stored > 0
    assert "search in r/all" in result.errors[0]
    with session_scope(database_url) as session:
        (health,) = which_sources_report_health(session)
    assert health.state == "degraded" and "search in r/all" in health.last_error


def test_every_part_failing_fails_the_pass(reddit_settings, server, database_url):
    server.route("GET", SEARCH, Reply(403, "{}"))
    server.route("GET", COMMENTS, Reply(404, "{}"))
    (result,) = collect_all(reddit_settings(watch_subreddits=["brandtest"]))
    assert result.outcome == "failed" and "Forbidden" in result.errors[0]


def test_a_comment_without_permalink_gets_a_link_built_from_its_ids(reddit_settings, server, database_url):
    page = json.loads(comment_page(0).body)
    for child in page["data"]["children"]:
        child["data"].pop("permalink", None)
    server.route("GET", SEARCH, Reply(200, json.dumps({"kind": "Listing", "data": {"children": [], "after": None}})))
    server.route("GET", COMMENTS, Reply(200, json.dumps(page)))
    collect_all(reddit_settings(watch_subreddits=["brandtest"]))
    with session_scope(database_url) as session:
        comment = session.execute(select(Mention).where(Mention.native_id.startswith("t1_"))).scalars().first()
    link, own = comment.conversation_id.removeprefix("t3_"), comment.native_id.removeprefix("t1_")
    assert comment.url == f"https://www.reddit.com/r/brandtest/comments/{link}/_/{own}/"


def test_subreddit_names_are_checked_in_config(write_config):
    from brandpulse.core.errors import ConfigError

    settings = write_config(sources={"reddit": {"search_subreddits": ["r/python", " redditdev "]}})
    assert settings.sources.reddit.search_subreddits == ["python", "redditdev"]
    with pytest.raises(ConfigError, match="not a subreddit name"):
        write_config(sources={"reddit": {"watch_subreddits": ["python+all"]}})
