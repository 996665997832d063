"""The Users page's People (data rights) section, through AppTest: look a person up, download the
export, forget them with a typed confirmation; their posts then read [erased] on the Mentions page."""

from __future__ import annotations


import pytest
from streamlit.testing.v1 import AppTest
from dashboard_session import signed_in

from dashboard.safe import md

from test_people import HANDLE, TEXTS, _world



def _signed_in(username: str, password: str) -> AppTest:
    app = signed_in(username, password)
    assert not app.exception, app.exception
    return app


def _texts(app: AppTest) -> list[str]:
    return [t for frame in app.dataframe if "text" in frame.value for t in frame.value["text"].tolist()]


def test_an_admin_finds_exports_and_forgets_a_person(settings, tmp_path):
    if not settings.database.url.startswith("sqlite"):
        pytest.skip("the page is the same on both databases; tests/test_people.py covers the store on PostgreSQL")
    _world(settings, tmp_path)
    assert "Users" not in _signed_in("mkt", "pw-mkt-1234567").sidebar.radio(key="page").options
    app = _signed_in("root", "pw-root-123456")
    app.sidebar.radio(key="page").set_value("Mentions").run()  # the page's cached rows hold Dana's posts
    assert set(TEXTS) <= set(_texts(app))
    app.sidebar.radio(key="page").set_value("Users").run()
    app.selectbox(key="people_network").set_value("x")
    app.text_input(key="people_handle").set_value(" @ ").run()  # no handle yet: nothing to look up
    assert app.button(key="people_lookup").disabled
    app.text_input(key="people_handle").set_value("@" + HANDLE.upper()).run()
    app.button(key="people_lookup").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert any(t.value.startswith(f"Held on x @{HANDLE.upper()}") for t in app.text)
    forget = next(b for b in app.button if b.label == "Forget")
    app.text_input(key="people_confirm").set_value("someone else")
    forget.click().run()
    assert "does not match" in app.error[0].value
    app.text_input(key="people_confirm").set_value(HANDLE)
    next(b for b in app.button if b.label == "Forget").click().run()
    assert not app.exception and app.success[0].value.startswith(f"Forgotten {md('x @' + HANDLE.upper())}:")
    assert "erasure #1" in app.success[0].value
    # what was looked up before the forget (counts, the export, the form) is gone from the page
    assert not any(t.value.startswith("Held on") for t in app.text)
    assert not app.get("download_button") and not any(b.label == "Forget" for b in app.button)
    app.sidebar.radio(key="page").set_value("Mentions").run()
    assert not app.exception, app.exception
    texts = _texts(app)
    assert texts.count("[erased]") == 3 and not set(TEXTS) & set(texts)
    authors = [a for frame in app.dataframe if "author" in frame.value for a in frame.value["author"].tolist()]
    assert "bob_b" in authors and HANDLE not in authors

