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
    frame = next(f.value for f in app.dataframe if "text" in f.value)
    app.selectbox(key="mention_detail").set_value(int(frame[frame["text"] == "[erased]"]["id"].iloc[0])).run()
    assert any(t.value == "by @[erased] · followers not known" for t in app.text), [t.value for t in app.text]


def test_the_export_download_is_named_per_person_and_day():
    from datetime import date

    from brandpulse.services.people import PersonSelector
    from dashboard.views.people import export_file_name

    today = f"{date.today():%Y-%m-%d}"
    assert export_file_name(PersonSelector(network="x", handle="@Dana_K")) == f"person-export-x-Dana_K-{today}.json"
    assert export_file_name(PersonSelector(external_id="../../etc/passwd")) == \
        f"person-export-customer-with-external_id-..-..-etc-passwd-{today}.json"



def test_the_sources_page_leads_with_a_dead_jobs_error_and_warns_when_no_worker_runs_the_queue(settings):
    if settings.database.url.startswith("sqlite"):
        pytest.skip("only PostgreSQL has a job queue")
    from sqlalchemy import text

    from brandpulse.services.accounts import create_user
    from store.engine import session_scope
    from store.job_queue import enqueue_job

    create_user(settings, None, "ada", "secret-pass-1", "admin")
    with session_scope(settings.database.url) as session:
        job = enqueue_job(session, "collect", "collect", {"source": "x", "brand": "Nimbus Mobile " * 20})
        session.execute(text("UPDATE procrastinate_jobs SET status = 'failed', attempts = 5 WHERE id = :id"),
                        {"id": job})
        session.execute(text("INSERT INTO queue_job_errors (job_id, attempt, error, failed_at) "
                             "VALUES (:id, 5, 'x answered 401: renew the token', now())"), {"id": job})
    app = signed_in("ada", "secret-pass-1", {"page": "Sources"})
    assert not app.exception, app.exception
    dead = next(d.value for d in app.dataframe if "last error" in d.value.columns)
    columns = list(dead.columns)
    assert columns.index("last error") < columns.index("arguments")  # not pushed off the right edge
    assert list(dead["last error"]) == ["x answered 401: renew the token"]
    assert not any("no live worker" in w.value for w in app.warning)  # a dead job waits for nobody
    app.button(key="retry_dead_jobs").click().run()
    assert not app.exception, app.exception
    assert any("1 job(s) wait in collect with no live worker" in w.value for w in app.warning)
