"""No user- or post-controlled text is rendered as Markdown or HTML by the dashboard.

Three checks: the escaper (dashboard/safe.py) is inert and lossless for any text (Hypothesis);
no dashboard call that renders Markdown gets a dynamic value that skipped the escaper (AST);
and a database full of hostile strings, walked page by page for every role, shows no live
link, image, HTML or emphasis built from them (AppTest, SQLite and PostgreSQL).
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings as hsettings, strategies as hs
from markdown_it import MarkdownIt

from dashboard.safe import WORD_JOINER, md, web_url

DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard"
PARSER = MarkdownIt("commonmark").enable(["strikethrough", "table"])
LIVE = {"link_open", "image", "html_inline", "html_block", "em_open", "strong_open", "s_open",
        "code_inline", "code_block", "fence", "heading_open", "bullet_list_open", "ordered_list_open",
        "blockquote_open", "table_open", "hr", "hardbreak", "softbreak"}
BARE_LINK = re.compile(r"(?i)(https?://|www\.|[-.+\w]+@[-\w]+\.\w)")  # GitHub-style autolinks
DIRECTIVE = re.compile(r"(?<!\\)(:[\w/-]+[:\[]|\$)")  # Streamlit :color[..], :icon:, LaTeX $..$
HOSTILE = hs.one_of(hs.text(), hs.text(alphabet="[]()!<>*_`~:$@#&|.\\/ \n\tawhtp=\"'"), hs.sampled_from([
    "[x](http://evil.example)", "![t](http://evil.example/p.png)", "<img src=http://evil.example/i>",
    "<http://evil.example>", "www.evil.example", "a@evil.example", "**b** _i_ ~~s~~", ":red[x] $x$",
    "&lt;img&gt;", "    indented", "# head", "- item", "1. item", "> quote", "a | b\n--|--", "x\\[y](z)"]))


def problems(markdown: str) -> list[str]:
    """What in ``markdown`` would render as more than its characters (empty when inert)."""
    found = [t.type for t in PARSER.parse(markdown) if t.type in LIVE]
    for token in PARSER.parse(markdown):
        for child in token.children or ():
            if child.type in LIVE:
                found.append(child.type)
            elif child.type == "text" and BARE_LINK.search(child.content):
                found.append(f"bare link in {child.content!r}")
    found += [f"directive {m.group(0)!r}" for m in DIRECTIVE.finditer(markdown)]
    return found


def shown(markdown: str) -> str:
    """The characters ``markdown`` shows once rendered."""
    return "".join(child.content for token in PARSER.parse(markdown) for child in token.children or ()
                   ).replace(WORD_JOINER, "")


@hsettings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_escaped_text_renders_nothing_and_shows_every_character(text):
    escaped = md(text)
    assert problems(escaped) == [], (text, escaped)
    expected = re.sub("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", " ", text).strip()
    assert shown(escaped) == expected


def test_the_check_itself_sees_live_markdown():
    for raw in ("[x](http://evil.example)", "![t](http://evil.example/p.png)", "<img src=x>", "**b**",
                "www.evil.example", "see http://evil.example", ":red[x]", "$x$", "# h"):
        assert problems(raw), raw


def test_only_web_addresses_become_link_buttons():
    assert web_url("https://x.example/1?a=b") == "https://x.example/1?a=b"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>", "//evil.example",
                "http://", "http://a b.example", "file:///etc/passwd", "vbscript:x", "", None, "http://[::1"):
        assert web_url(bad) is None, bad


# --- every page, every role, on a database full of hostile strings ------------------------------

from datetime import datetime, timedelta, timezone  # noqa: E402

import pytest  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402
from dashboard_session import signed_in  # noqa: E402

from brandpulse.services import care, incidents  # noqa: E402
from brandpulse.services.access import ROLES, Actor, pages_for  # noqa: E402
from brandpulse.services.accounts import create_user  # noqa: E402
from brandpulse.services.influence import refresh_influence  # noqa: E402
from brandpulse.services.pipeline import analyze_pending  # noqa: E402
from brandpulse.core.records import AuthorRecord, MentionRecord  # noqa: E402
from brandpulse.services.triage import triage_new  # noqa: E402
from store.alerts import save_alert  # noqa: E402
from store.brands import sync_brands  # noqa: E402
from store.collectors import record_collector_failure  # noqa: E402
from store.engine import session_scope  # noqa: E402
from store.mentions import save_mentions  # noqa: E402
from store.models import Brand, User  # noqa: E402
from store.replies import enqueue_reply  # noqa: E402
from store.topics import save_topics  # noqa: E402
from sqlmodel import select  # noqa: E402

NOW = datetime.now(timezone.utc).replace(microsecond=0)
PASSWORD = "secret-pass-1"
MARKER = "evil.example"
BOLD = "b0ld"
ALWAYS_LIVE = {"link_open", "image", "html_inline", "html_block"}  # the app itself never uses these


def evil(tag: str) -> str:
    """A string that, rendered as Markdown, would show a link, fetch two images and bold a word."""
    return f"{tag}[l](http://{MARKER}/{tag})![i](http://{MARKER}/{tag}.png)<img src=//{MARKER}/>**{BOLD}**"


EVIL_USER = f"[u](http://{MARKER}/u)<b>u</b>"
LOGINS = {"admin": "root", "marketing": "mkt", "care_agent": EVIL_USER, "care_lead": "lead",
          "brand_manager": "bm"}
# element type -> fields shown as plain text (everything else an element carries is Markdown)
PLAIN = {"text": {"body"}, "code": {"code_text", "language"}, "json": {"body"}, "arrow_data_frame": None,
         "arrow_table": None, "dataframe": None, "table": None, "vega_lite_chart": None,
         "arrow_vega_lite_chart": None, "selectbox": {"options", "default", "raw_value", "value"},
         "multiselect": {"options", "default", "raw_values", "value"}, "text_input": {"value", "default"},
         "text_area": {"value", "default"}, "date_input": {"default", "value", "min", "max"},
         "link_button": {"url"}, "download_button": {"url", "file_name"}}
NEVER_SHOWN = {"id", "form_id", "type", "format", "element_type", "icon", "width_config", "height_config",
               "text_alignment_config", "theme", "spec_id"}


@pytest.fixture
def hostile(write_config, database_url):
    """Settings of a database whose brand, author, user, alert, topic, note and error texts are hostile."""
    settings = write_config(care={"teams": [{"name": "care", "auto_assign": False}], "default_team": "care"})
    url = database_url
    with session_scope(url) as session:
        sync_brands(session, settings.brands)
        session.add(Brand(name=evil("brand"), query="", is_competitor=False))  # as an import once made it
    author = AuthorRecord("x", "x-evil", handle=evil("handle"), name=evil("name"), followers=10)
    with session_scope(url) as session:
        save_mentions(session, [MentionRecord(
            network=network, native_id=native, author=author, brands=["Nimbus Mobile", evil("brand")],
            text=f"Nimbus Mobile charged me twice, want a refund now {evil('post')}", url="javascript:alert(1)",
            created_at=NOW - timedelta(minutes=minutes)) for network, native, minutes in
            (("x", "1", 5), ("x", "2", 600))] + [MentionRecord(  # another grievance, for an incident
            network="reddit", native_id="t3_out", brands=["Nimbus Mobile"], created_at=NOW - timedelta(days=3),
            text="Nimbus Mobile has no signal at all in town, outage again, awful",
            author=AuthorRecord("reddit", "r-other", handle="other", followers=1))])
    analyze_pending(settings)
    assert triage_new(settings, now=NOW) >= 1
    for role, name in LOGINS.items():
        if name != EVIL_USER:
            create_user(settings, None, name, PASSWORD, role, "care" if role.startswith("care") else None)
    with session_scope(url) as session:  # a name made before names were checked
        session.add(User(username=EVIL_USER, password_hash=PasswordHasher().hash(PASSWORD), role="care_agent",
                         team="care"))
    lead = next(u for u in _users(settings) if u.username == "lead")
    agent = next(u for u in _users(settings) if u.username == EVIL_USER)
    tickets = care.inbox(settings, lead, "all teams")
    for ticket in tickets:
        care.assign(settings, lead, ticket["id"], agent.id)
        care.add_note(settings, lead, ticket["id"], evil("note"))
        care.set_status(settings, lead, ticket["id"], "in_progress", evil("reason"))
        care.draft_reply(settings, lead, ticket["id"], evil("draft"))
        mention_id = care.ticket_context(settings, lead, ticket["id"])["ticket"]["mention_id"]
        with session_scope(url) as session:  # replies as the outbox holds them, one refused with a reason
            for state in ("queued", "failed"):
                reply = enqueue_reply(session, ticket_id=ticket["id"], mention_id=mention_id,
                                      network="x", account=evil("account")[:100], body=evil("reply"),
                                      written_by=agent.id)
                reply.status, reply.error = state, evil("error") if state == "failed" else None
    outage = [t["id"] for t in tickets if t["network"] == "reddit"]
    incidents.create_incident(settings, lead, evil("incident"), outage, cause=evil("cause"))
    refresh_influence(settings, now=NOW)
    with session_scope(url) as session:
        brand_id = session.exec(select(Brand.id).where(Brand.name == evil("brand"))).one()
        save_alert(session, {"brand_id": brand_id, "rule": "volume_spike", "severity": "high",
                             "title": f"{evil('brand')}: {evil('alert')}", "dedupe_key": "evil",
                             "evidence": {"why": evil("evidence"), "top_mentions": [
                                 {"mention_id": 1, "network": "x", "text": evil("top")}]},
                             "window_start": NOW - timedelta(hours=6), "window_end": NOW, "fired_at": NOW})
        save_topics(session, brand_id, [{"label": evil("topic"), "terms": [evil("term")], "size": 2,
                                         "share": 1.0, "growth": 2.0, "emerging": True, "computed_at": NOW,
                                         "representative": [{"network": "x", "text": evil("rep")}],
                                         "trend": {NOW.date().isoformat(): 2}}])
        record_collector_failure(session, "x", evil("brand"), evil("error"))
    return settings


def _users(settings) -> list[Actor]:
    with session_scope(settings.database.url) as session:
        return [Actor(u.id, u.username, u.role, u.team) for u in session.exec(select(User))]


def _markdown(node, path: str = "") -> list[tuple[str, str]]:
    """(where, text) of every string the element tree hands to the Markdown renderer."""
    found = []
    proto, kind = getattr(node, "proto", None), getattr(node, "type", "")
    if proto is not None and hasattr(proto, "ListFields") and kind in PLAIN and PLAIN[kind] is None:
        proto = None
    if proto is not None and hasattr(proto, "ListFields"):
        found += _strings(proto, kind, PLAIN.get(kind, set()), f"{path}/{kind}")
    for child in getattr(node, "children", {}).values():
        found += _markdown(child, f"{path}/{kind}")
    return found


def _strings(message, kind: str, plain: set[str], where: str) -> list[tuple[str, str]]:
    found = []
    for field, value in message.ListFields():
        if field.name in plain or field.name in NEVER_SHOWN:
            continue
        values = list(value) if field.is_repeated else [value]
        for item in values:
            if isinstance(item, str):
                found.append((f"{where}.{field.name}", item))
            elif hasattr(item, "ListFields"):
                found += _strings(item, kind, plain, f"{where}.{field.name}")
    return found


def _links(node) -> list[str]:
    """The URLs of every link button in the tree."""
    urls = [node.proto.url] if getattr(node, "type", "") == "link_button" else []
    for child in getattr(node, "children", {}).values():
        urls += _links(child)
    return urls


def _hostile_problems(markdown: str) -> list[str]:
    """Live Markdown in an element: any link, image or HTML, any autolink or directive, and
    emphasis around hostile text (the app's own headings and bold labels are fine)."""
    found = [p for p in problems(markdown) if p in ALWAYS_LIVE or not p.endswith(("_open", "hr"))
             and p not in ("code_inline", "code_block", "fence", "softbreak", "hardbreak")]
    tokens = [c for t in PARSER.parse(markdown) for c in (t.children or ())]
    for i, token in enumerate(tokens):
        if token.type in ("em_open", "strong_open", "s_open") and BOLD in tokens[i + 1].content:
            found.append(f"{token.type} around {tokens[i + 1].content!r}")
    return found


def _check(app: AppTest, where: str, shown_marker: set[str]) -> None:
    assert not app.exception, (where, app.exception)
    for place, text in _markdown(app._tree):
        assert _hostile_problems(text) == [], (where, place, text)
        if MARKER in shown(text):
            shown_marker.add(place.split(".")[0].rsplit("/", 1)[-1] + "." + place.rsplit(".", 1)[-1])
    assert all(web_url(url) for url in _links(app._tree)), (where, _links(app._tree))


def _visit(app: AppTest, role: str, page: str) -> None:
    app.sidebar.radio(key="page").set_value(page).run()
    if page not in ("Care inbox", "Sources", "Alerts", "Users", "Incidents"):
        app.sidebar.selectbox(key="filter_brand").set_value(evil("brand")).run()
    if page == "Care inbox":
        app.radio(key="inbox_view").set_value("all teams").run()


@pytest.mark.parametrize("role", ROLES)
def test_no_hostile_text_renders_as_markdown_on_any_page(hostile, role):  # hostile sets BRANDPULSE_CONFIG
    app = signed_in(LOGINS[role], PASSWORD, {"page": evil("page"), "ticket": evil("ticket")})
    shown_marker: set[str] = set()
    _check(app, "after sign-in with ?page=", shown_marker)
    assert app.error and app.error[0].value.startswith("Not allowed"), [e.value for e in app.error]
    for page in pages_for(role):
        _visit(app, role, page)
        _check(app, page, shown_marker)
    # the hostile text was shown (escaped), so the walk reached it: the refused ?page= value,
    # the brand names of a mention, alert and topic titles, the assignee's name
    assert {"error.body", "caption.body"} <= shown_marker, shown_marker
    assert ("expander.label" in shown_marker) == ("Alerts" in pages_for(role)), shown_marker
    assert ("metric.body" in shown_marker) == ("Care inbox" in pages_for(role)), shown_marker
