"""Retention removes exactly what is older than configured (a day inside the limit is kept, a day
past it removed), a dry run changes nothing, and the dashboard rollups keep their totals."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update
from typer.testing import CliRunner

from brandpulse.cli.main import app
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.services.pipeline import analyze_pending, refresh_overview
from brandpulse.services.retention import apply_retention
from store import search
from store.engine import session_scope
from store.mentions import save_mentions
from store.models import Alert, Author, Mention, MentionRollup, Ticket, TicketEvent, TicketMention
from store.models_rights import Erasure
from store.rollups import rebuild_day, which_days_changed
from test_people import _grep_targets

NOW = datetime.now(timezone.utc)
AGES = (0, 9, 11, 29, 31, 59, 61)  # days; raw_days 10, text_days 30, closed_ticket_days 60
RETENTION = {"raw_days": 10, "text_days": 30, "closed_ticket_days": 60}


def _fill(url):
    records = [MentionRecord(
        network="x", native_id=f"m{age}", text=f"Nimbus Mobile refund still missing after {age} days",
        created_at=NOW - timedelta(days=age), url=f"https://x.com/a{age}/status/{age}", raw={"id": str(age)},
        brands=["Nimbus Mobile"], author=AuthorRecord("x", f"a{age}", handle=f"a{age}", name=f"Person {age}",
                                                      followers=100 + age)) for age in AGES]
    with session_scope(url) as session:
        save_mentions(session, records)
    with session_scope(url) as session:
        ids = dict(session.execute(select(Mention.native_id, Mention.id)).all())
        for age in AGES:  # each author was last seen with their post
            session.execute(update(Author).where(Author.native_id == f"a{age}")
                            .values(updated_at=NOW - timedelta(days=age)))
        for post, status, closed in (("m59", "resolved", 59), ("m61", "resolved", 61), ("m31", "dismissed", 61),
                                     ("m29", "in_progress", None)):
            ticket = Ticket(mention_id=ids[post], intent="complaint", status=status, team="care",
                            created_at=NOW - timedelta(days=90),
                            resolved_at=NOW - timedelta(days=closed) if closed else None)
            session.add(ticket)
            session.flush()
            session.add(TicketMention(mention_id=ids[post], ticket_id=ticket.id))
            session.add(TicketEvent(ticket_id=ticket.id, kind="note", body="called the customer"))
        for age in (29, 31):
            quote = {"mention_id": ids[f"m{age}"], "network": "x", "text": f"refund still missing after {age} days"}
            session.add(Alert(rule="volume", title="spike", window_start=NOW - timedelta(days=age, hours=1),
                              window_end=NOW - timedelta(days=age), dedupe_key=f"volume:{age}",
                              fired_at=NOW - timedelta(days=age), evidence={"observed": 9, "top_mentions": [quote]}))
    return ids


def _rollup_totals(url):
    with session_scope(url) as session:
        for day in which_days_changed(session, None, None):
            rebuild_day(session, day)
    with session_scope(url) as session:
        return session.execute(select(MentionRollup.sentiment, func.sum(MentionRollup.mentions),
                                      func.sum(MentionRollup.complaints))
                               .group_by(MentionRollup.sentiment).order_by(MentionRollup.sentiment)).all()


def _snapshot(url):
    with session_scope(url) as session:
        return (session.execute(select(Mention.native_id, Mention.text, Mention.raw, Mention.url, Mention.erased_at)
                                .order_by(Mention.id)).all(),
                session.execute(select(Author.native_id, Author.name, Author.followers).order_by(Author.id)).all(),
                session.execute(select(Ticket.id, Ticket.status).order_by(Ticket.id)).all())


def test_retention_removes_exactly_what_is_older_than_configured(write_config, database_url):
    settings = write_config(retention=RETENTION)
    _fill(database_url)
    analyze_pending(settings)
    refresh_overview(settings)
    before = _rollup_totals(database_url)
    untouched = _snapshot(database_url)

    dry = apply_retention(settings, dry_run=True, now=NOW)
    assert dry.counts == {"texts": 3, "author_profiles": 3, "alert_quotes": 1, "raw_payloads": 2,
                          "closed_tickets": 2}
    assert _snapshot(database_url) == untouched  # a dry run changes nothing

    report = apply_retention(settings, now=NOW)
    assert report.counts == dry.counts
    with session_scope(database_url) as session:
        rows = {m.native_id: m for m in session.execute(select(Mention)).scalars()}
        authors = {a.native_id: a for a in session.execute(select(Author)).scalars()}
        for age in (0, 9):
            assert rows[f"m{age}"].raw == {"id": str(age)} and rows[f"m{age}"].text.startswith("Nimbus")
        for age in (11, 29):
            assert rows[f"m{age}"].raw is None and rows[f"m{age}"].text.startswith("Nimbus")
            assert authors[f"a{age}"].name == f"Person {age}"
        for age in (31, 59, 61):
            gone = rows[f"m{age}"]
            assert (gone.text, gone.raw, gone.erased_reason) == ("", None, "retention")
            assert gone.url == f"https://x.com/a{age}/status/{age}"  # the link is kept
            assert (authors[f"a{age}"].name, authors[f"a{age}"].followers) == ("", None)
            assert authors[f"a{age}"].handle == f"a{age}"
        tickets = dict(session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all())
        assert tickets == {"resolved": 1, "in_progress": 1}  # closed 59 days ago and the open one kept
        assert session.execute(select(func.count()).select_from(TicketEvent)).scalar() == 2
        assert session.execute(select(func.count()).select_from(TicketMention)).scalar() == 2
        quotes = dict(session.execute(select(Alert.dedupe_key, Alert.evidence)).all())
        assert quotes["volume:29"]["top_mentions"][0]["text"] == "refund still missing after 29 days"
        assert quotes["volume:31"] == {"observed": 9, "top_mentions": [{"mention_id": rows["m31"].id, "network": "x",
                                                                        "text": ""}]}
        assert search.which_mentions_contain(session, "refund")[0] == sorted(rows[f"m{a}"].id for a in (0, 9, 11, 29))
        audit = session.execute(select(Erasure)).scalar_one()
        assert (audit.kind, audit.actor, audit.status, audit.counts) == ("retention", "scheduler", "done", dry.counts)
    assert _rollup_totals(database_url) == before  # dashboards keep their totals
    held = _grep_targets(database_url)  # the database file and its WAL, or a pg_dump
    assert all(f"after {age} days".encode() not in held for age in (31, 59, 61))
    assert all(f"after {age} days".encode() in held for age in (0, 9, 11, 29))

    again = apply_retention(settings, now=NOW)
    assert again.rows == 0 and again.erasure_id is None
    with session_scope(database_url) as session:  # a run that removed nothing leaves no audit row
        assert session.execute(select(func.count()).select_from(Erasure)).scalar() == 1


def test_a_stopped_run_has_counted_what_it_removed_and_the_next_run_completes_its_audit_row(
        write_config, database_url):
    settings = write_config(retention=RETENTION)
    _fill(database_url)
    expected = apply_retention(settings, dry_run=True, now=NOW).counts

    def stop_during_profiles(kind, done):
        if kind == "author_profiles":
            raise KeyboardInterrupt  # Ctrl-C, or a kill between two batches
    try:
        apply_retention(settings, now=NOW, progress=stop_during_profiles)
    except KeyboardInterrupt:
        pass
    with session_scope(database_url) as session:
        stopped = session.execute(select(Erasure)).scalar_one()
        assert stopped.status == "running" and stopped.counts == {"texts": 3, "author_profiles": 3}
    finished = apply_retention(settings, now=NOW)
    assert finished.erasure_id == stopped.id and finished.counts["texts"] == 0  # nothing done twice
    with session_scope(database_url) as session:
        audit = session.execute(select(Erasure)).scalar_one()
        assert (audit.status, audit.counts) == ("done", expected)  # one row, the whole of what was removed


def test_the_command_prints_what_it_would_remove_and_then_removes_it(write_config, database_url):
    write_config(retention={"raw_days": 10})
    _fill(database_url)
    runner = CliRunner()
    dry = runner.invoke(app, ["retention", "apply", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would remove" in dry.output and "5  raw payloads emptied" in dry.output
    assert "kept forever (text_days unset)" in dry.output
    done = runner.invoke(app, ["retention", "apply"])
    assert done.exit_code == 0, done.output
    assert "removed" in done.output and "5  raw payloads emptied" in done.output
    with session_scope(database_url) as session:
        assert session.execute(select(func.count()).select_from(Mention).where(Mention.raw.is_not(None))).scalar() == 2


def test_retention_that_would_cut_into_ticketing_is_refused(write_config):
    import pytest

    from brandpulse.core.errors import ConfigError

    with pytest.raises(ConfigError, match="retention.text_days"):
        write_config(retention={"text_days": 5})
