"""The Streamlit dashboard on a real demo database, through streamlit.testing's AppTest."""

import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
import dashboard_session

from brandpulse.services.access import PAGES, pages_for
from nlp.model import DEFAULT_MODEL


APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
DASHBOARD = Path(APP).parent


LOGINS = {"admin": "admin", "marketing": "marketing", "care_agent": "agent", "care_lead": "lead",
          "brand_manager": "brand"}


@pytest.fixture
def new_app(demo, monkeypatch):
    monkeypatch.setenv("BRANDPULSE_CONFIG", str(demo.config_path))
    st.cache_data.clear()
    st.cache_resource.clear()
    return lambda: AppTest.from_file(APP, default_timeout=60)


def sign_in(app: AppTest, demo, username: str, password: str | None = None) -> AppTest:
    passwords = {name: secret for name, _, _, secret in demo.users}
    dashboard_session.sign_in(app, username, password or passwords[username])
    assert not app.exception, app.exception
    return app


@pytest.fixture
def app(new_app, demo):
    """The dashboard signed in as the admin."""
    return sign_in(new_app(), demo, "admin")


def open_page(app: AppTest, page: str, brand: str | None = None) -> AppTest:
    app.sidebar.radio(key="page").set_value(page).run()
    if brand:
        app.sidebar.selectbox(key="filter_brand").set_value(brand).run()
    assert not app.exception, app.exception
    return app


def test_nothing_shows_before_signing_in_and_a_wrong_password_is_refused(new_app, demo):
    app = new_app()
    app.run()
    assert "SYNTHETIC" in app.warning[0].value
    assert not app.metric and not app.dataframe and not app.sidebar.radio
    sign_in(app, demo, "agent", "not-the-password")
    assert "Wrong user name or password" in app.error[0].value
    assert not app.sidebar.radio


@pytest.mark.parametrize("role", list(LOGINS))
def test_every_page_a_role_may_see_renders(new_app, demo, role):
    app = sign_in(new_app(), demo, LOGINS[role])
    assert app.sidebar.radio(key="page").options == pages_for(role)
    for page in pages_for(role):
        open_page(app, page)
        assert not app.error, (page, [e.value for e in app.error])
        assert app.header[0].value == page


@pytest.mark.parametrize("role,page", [(role, page) for role in LOGINS for page, roles in PAGES.items()
                                       if role not in roles])
def test_pages_a_role_may_not_see_are_refused(new_app, demo, role, page):
    app = new_app()
    app.query_params["page"] = page  # a deep link to the page
    sign_in(app, demo, LOGINS[role])
    assert page not in app.sidebar.radio(key="page").options
    assert app.error and app.error[0].value.startswith("Not allowed"), page
    assert not [h for h in app.header if h.value == page]


def test_overview_shows_banner_figures_and_charts(app):
    open_page(app, "Overview")
    assert "SYNTHETIC" in app.warning[0].value
    labels = [m.label for m in app.metric]
    assert labels == ["Mentions", "Net sentiment", "Complaint rate", "Open tickets"]
    assert int(app.metric[0].value.replace(",", "")) > 500
    charts = app.get("vega_lite_chart")
    assert len(charts) == 5  # daily sentiment, share of voice, sentiment per aspect, top aspects, top entities


def test_brand_filter_changes_the_figures(app):
    open_page(app, "Overview")
    first = app.metric[0].value
    app.sidebar.selectbox(key="filter_brand").set_value("Brewhaven").run()
    assert app.metric[0].value != first


def test_mentions_explorer_searches_and_shows_analysis_with_model(app):
    open_page(app, "Mentions", brand="Nimbus Mobile")
    app.text_input(key="mention_search").set_value("outage").run()
    assert not app.exception
    frame = app.dataframe[0].value
    assert len(frame) > 0 and frame["text"].str.contains("outage", case=False).all()
    shown = " ".join(t.value for t in app.text)  # the mention card, as plain text
    meta = json.loads((DEFAULT_MODEL / "meta.json").read_text(encoding="utf-8"))
    assert f"brandpulse-minilm-multitask@{meta['version']}+int8" in shown


def test_user_text_is_rendered_literally_never_as_html(app):
    open_page(app, "Mentions", brand="Nimbus Mobile")
    app.text_input(key="mention_search").set_value("<script>").run()
    texts = [t.value for t in app.text]
    assert any(t.startswith("<script>alert('hi')</script> **@NimbusMobile**") for t in texts)
    assert all("<script>" not in m.value for m in app.markdown)


def test_no_dashboard_code_enables_raw_html():
    for path in DASHBOARD.rglob("*.py"):
        assert "unsafe_allow_html" not in path.read_text(), path


def test_inbox_lists_tickets_by_priority_with_sla(new_app, demo):
    app = sign_in(new_app(), demo, "agent")
    open_page(app, "Care inbox")
    frame = app.dataframe[0].value
    assert len(frame) == 50 and set(frame["team"]) == {"care"}  # the agent's team by default, pages of 50
    assert list(frame["priority"]) == sorted(frame["priority"], reverse=True)
    assert frame["sla"].str.match(r"^(reply in|BREACHED)").all()
    assert not [e for e in app.expander if e.label == "Bulk actions"]  # leads and admins only
    app.radio(key="inbox_view").set_value("all teams").run()
    assert set(app.dataframe[0].value["team"]) == {"care"}  # an agent reaches only their team's tickets


def test_lead_claims_a_ticket_and_the_history_shows_it(new_app, demo):
    app = sign_in(new_app(), demo, "lead")
    open_page(app, "Care inbox")
    app.radio(key="inbox_view").set_value("unassigned").run()
    ticket = app.session_state["open_ticket"]
    app.button(key="claim").click().run()
    assert f"ticket #{ticket} assigned to you" in app.success[0].value
    app.text_area(key="note_body").set_value("<b>called</b> the customer")
    app.button(key="note_add").click().run()
    history = app.dataframe[1].value
    assert list(history["kind"])[-2:] == ["assigned", "note"] and set(history["user"][-2:]) == {"lead"}
    assert "<b>called</b> the customer" in list(history["body"])
    assert [e for e in app.expander if e.label == "Bulk actions"]


def test_admin_adds_a_user_who_can_then_sign_in(app, new_app, demo):
    open_page(app, "Users")
    app.text_input(key="new_user_name").set_value("newbie")
    app.text_input(key="new_user_password").set_value("long-enough-1")
    app.selectbox(key="new_user_role").set_value("marketing")
    [submit] = [b for b in app.button if b.label == "Add user"]
    submit.click().run()
    assert "added newbie" in app.success[0].value
    other = sign_in(new_app(), demo, "newbie", "long-enough-1")
    assert other.sidebar.radio(key="page").options == pages_for("marketing")


def test_admin_creates_an_api_token_shown_once_that_then_works_and_is_revoked(app, demo):
    from brandpulse.services.tokens import authenticate
    from brandpulse.core.errors import ApiTokenError

    open_page(app, "Users")
    app.text_input(key="token_name").set_value("crm")
    app.multiselect(key="token_scopes").set_value(["mentions:read"])
    [submit] = [b for b in app.button if b.label == "Create token"]
    submit.click().run()
    assert not app.exception and "copy it now" in app.success[0].value
    [secret] = [c.value for c in app.code if c.value.startswith("bp_")]
    caller = authenticate(demo.settings, secret)
    assert caller.scopes == ("mentions:read",) and caller.token_name == "crm"
    app.run()  # the next run never shows the secret again
    assert not [c for c in app.code if c.value == secret]
    [b for b in app.button if b.label == "Revoke"][0].click().run()
    assert "token revoked" in app.success[0].value
    with pytest.raises(ApiTokenError, match="revoked"):
        authenticate(demo.settings, secret)


def test_admin_sees_a_disabled_webhook_with_its_reason_and_enables_it(app, demo):
    from brandpulse.services.webhooks import create_subscription, list_subscriptions
    from store.engine import session_scope
    from store.models_api import WebhookSubscription

    _, made = create_subscription(demo.settings, None, url="http://127.0.0.1:9/hook", event_types=["alert.fired"])
    with session_scope(demo.settings.database.url) as session:
        stored = session.get(WebhookSubscription, made["id"])
        stored.active, stored.disabled_reason = False, "HTTP 500 for 48 h <b>x</b>"
    open_page(app, "Users")
    [table] = [d.value for d in app.dataframe if "why disabled" in d.value.columns]
    assert "HTTP 500 for 48 h <b>x</b>" in list(table["why disabled"])
    assert any("is disabled" in w.value for w in app.warning)
    app.button(key="webhooks_enable").click().run()
    assert "enabled" in app.success[0].value
    assert next(s for s in list_subscriptions(demo.settings, None) if s["id"] == made["id"])["state"] == "active"


def test_alerts_page_shows_the_outage_and_marketing_acknowledges_it(new_app, demo):
    app = sign_in(new_app(), demo, "marketing")
    open_page(app, "Alerts")
    titles = [e.label for e in app.expander]
    assert any("Nimbus Mobile" in t and "mentions in 6h" in t for t in titles)
    before = len(titles)
    [b for b in app.button if (b.key or "").startswith("ack_")][0].click().run()
    assert len(app.expander) == before - 1  # acknowledged alerts leave the default view
    app.radio(key="alerts_show").set_value("all").run()
    assert any(e.label.endswith("acknowledged") for e in app.expander)


def test_sources_page_shows_health_and_quarantine(app, demo):
    from store.collectors import record_collector_failure
    from store.engine import session_scope
    from store.mentions import quarantine

    with session_scope(demo.settings.database.url) as session:
        record_collector_failure(session, "x", "Nimbus Mobile", "X rate limit reached", state="rate_limited")
        quarantine(session, "x", "tweet 1", "tweet has no id or no text", "{}")
    open_page(app, "Sources")
    health = app.dataframe[0].value
    assert list(health["state"]) == ["rate_limited"] and "X rate limit" in health["last error"][0]
    assert app.dataframe[1].value["records"][0] == 1


def test_brand_manager_downloads_the_influencer_report_marketing_cannot(new_app, demo):
    app = sign_in(new_app(), demo, "brand")
    open_page(app, "Influencers")
    board = app.dataframe[0].value
    assert len(board) > 10 and list(board["score"]) == sorted(board["score"], reverse=True)
    assert {"reach", "engagement", "authority", "relevance", "recency", "bot_likelihood"} <= set(board.columns)
    app.selectbox(key="report_format").set_value("csv")
    app.button(key="report_prepare").click().run()
    assert not app.exception
    download = app.get("download_button")
    assert download and download[0].proto.label == "Download CSV"
    other = sign_in(new_app(), demo, "marketing")
    open_page(other, "Influencers")
    assert other.dataframe and not [b for b in other.button if b.key == "report_prepare"]


def test_topics_page_shows_the_emerging_outage_first(app):
    open_page(app, "Topics", brand="Nimbus Mobile")
    first = app.expander[0].label
    assert first.startswith("EMERGING") and len(app.get("vega_lite_chart")) == 2  # trend, sentiment per topic
    assert any("outage" in t.value or "signal" in t.value for t in app.text)


def test_share_of_voice_page_draws_time_network_and_sentiment_charts(app):
    open_page(app, "Share of voice", brand="Nimbus Mobile")
    assert [s.value for s in app.subheader] == ["Share of all mentions over time", "By network",
                                                "Among positive mentions", "Among negative mentions"]
    assert len(app.get("vega_lite_chart")) == 4
