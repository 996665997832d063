"""The Streamlit dashboard on a real demo database, through streamlit.testing's AppTest."""

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from brandpulse.demo import prepare_demo

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
DASHBOARD = Path(APP).parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return prepare_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def app(demo, monkeypatch):
    monkeypatch.setenv("BRANDPULSE_CONFIG", str(demo.config_path))
    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_file(APP, default_timeout=60)


def open_page(app: AppTest, page: str, brand: str | None = None) -> AppTest:
    app.run()
    app.sidebar.radio(key="page").set_value(page).run()
    if brand:
        app.sidebar.selectbox(key="filter_brand").set_value(brand).run()
    assert not app.exception, app.exception
    return app


def test_overview_shows_banner_figures_and_charts(app):
    app.run()
    assert not app.exception
    assert "SYNTHETIC" in app.warning[0].value
    labels = [m.label for m in app.metric]
    assert labels == ["Mentions", "Net sentiment", "Complaint rate", "Open tickets"]
    assert int(app.metric[0].value.replace(",", "")) > 500
    charts = app.get("vega_lite_chart")
    assert len(charts) == 2


def test_brand_filter_changes_the_figures(app):
    app.run()
    first = app.metric[0].value
    app.sidebar.selectbox(key="filter_brand").set_value("Brewhaven").run()
    assert app.metric[0].value != first


def test_mentions_explorer_searches_and_shows_analysis_with_model(app):
    open_page(app, "Mentions", brand="Nimbus Mobile")
    app.text_input(key="mention_search").set_value("outage").run()
    assert not app.exception
    frame = app.dataframe[0].value
    assert len(frame) > 0 and frame["text"].str.contains("outage", case=False).all()
    shown = app.json[0].value
    assert "brandpulse-minilm-multitask@1.0.0+int8" in shown


def test_user_text_is_rendered_literally_never_as_html(app):
    open_page(app, "Mentions", brand="Nimbus Mobile")
    app.text_input(key="mention_search").set_value("<script>").run()
    texts = [t.value for t in app.text]
    assert any(t.startswith("<script>alert('hi')</script> **@NimbusMobile**") for t in texts)
    assert all("<script>" not in m.value for m in app.markdown)


def test_no_dashboard_code_enables_raw_html():
    for path in DASHBOARD.rglob("*.py"):
        assert "unsafe_allow_html" not in path.read_text(), path


def test_inbox_lists_tickets_by_priority_with_explanation(app):
    open_page(app, "Care inbox")
    frame = app.dataframe[0].value
    assert len(frame) > 50
    assert list(frame["priority"]) == sorted(frame["priority"], reverse=True)
    app.selectbox(key="inbox_team").set_value("vip").run()
    assert set(app.dataframe[0].value["team"]) == {"vip"}


def test_alerts_page_shows_the_outage(app):
    open_page(app, "Alerts")
    titles = [e.label for e in app.expander]
    assert any("Nimbus Mobile" in t and "mentions in 6h" in t for t in titles)


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
