"""Data rights: a subject access export holds every row a person appears in; a forget leaves no
trace of them in any table, index or file, keeps rollup totals, and is not undone by a re-import."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from brandpulse.core.errors import AccessDeniedError, NotFoundError
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.services.importer import import_file
from brandpulse.services.people import PersonSelector, export_person, forget_person
from brandpulse.services.pipeline import analyze_pending, refresh_overview
from store import forgetting
from store.engine import normalize_url, session_scope
from store.mentions import save_mentions
from store.models import (Alert, Analysis, Author, AuthorInfluence, Customer, Mention, MentionBrand, MentionRollup,
                          Quarantine, Reply, ReportRun, TermRollup, Ticket, TicketEvent, TicketMention, Topic,
                          TopicMention)
from store.models_api import CustomerEvent, CustomerIdentity, IdempotentRequest, WebhookEvent
from store.models_rights import Erasure, Suppression
from store.users import add_user

NOW = datetime.now(timezone.utc).replace(microsecond=0)
HANDLE, NAME, EMAIL, EXTERNAL = "dana_k", "Dana Kowalski", "dana.k@example.org", "crm-881"
TEXTS = ["Nimbus Mobile dropped my call again near Quillfield station",
         "Nimbus Mobile billing charged me twice for the Zephyr plan",
         "Nimbus Mobile support never answered my ticket about Brackenwood"]
OTHER = "@dana_k same here, Nimbus Mobile is down in Quillfield too"
DANA = AuthorRecord("x", "9001", handle=HANDLE, name=NAME, followers=512, profile_url="https://x.com/dana_k")
BOB = AuthorRecord("x", "9002", handle="bob_b", name="Bob", followers=20)


def _post(native_id, text, author, minutes, **extra):
    return MentionRecord(network="x", native_id=native_id, text=text, created_at=NOW - timedelta(minutes=minutes),
                         author=author, brands=["Nimbus Mobile"],
                         url=f"https://x.com/{author.handle}/status/{native_id}",
                         raw={"id": native_id, "text": text, "user": {"screen_name": author.handle}}, **extra)


def _world(settings, tmp_path) -> dict:
    """Dana (x @dana_k, customer crm-881) with posts, a ticket, notes, a reply, an alert, a topic, a
    webhook event, a stored API answer, a quarantined row, a rollup term and a report file; Bob replies."""
    url = settings.database.url
    posts = [_post(str(100 + i), t, DANA, 10 + i, conversation_id="100") for i, t in enumerate(TEXTS)]
    posts.append(_post("200", OTHER, BOB, 5, in_reply_to_id="100", conversation_id="100"))
    posts.append(_post("201", "Nimbus Mobile works fine for me today", BOB, 4))
    with session_scope(url) as session:
        save_mentions(session, posts)
    analyze_pending(settings)
    report = tmp_path / "data" / "nimbus-weekly.csv"
    report.parent.mkdir()
    report.write_text(f"author,posts\n{HANDLE},3\nbob_b,2\n")
    with session_scope(url) as session:
        admin = add_user(session, "root", "pw-root-123456", "admin")
        add_user(session, "mkt", "pw-mkt-1234567", "marketing")
        ids = {m.native_id: m.id for m in session.execute(select(Mention)).scalars()}
        dana = session.execute(select(Author).where(Author.handle == HANDLE)).scalar_one()
        bob = session.execute(select(Author).where(Author.handle == "bob_b")).scalar_one()
        analysis = session.execute(select(Analysis).where(Analysis.mention_id == ids["100"])).scalar_one()
        analysis.entities = [*analysis.entities, {"text": NAME, "label": "PERSON"}]
        customer = Customer(display_name=NAME, external_id=EXTERNAL)
        session.add(customer)
        session.flush()
        dana.customer_id = customer.id
        session.add_all([
            CustomerIdentity(customer_id=customer.id, kind="email", value=EMAIL, evidence="CRM case 881"),
            CustomerIdentity(customer_id=customer.id, kind="x", value=HANDLE, evidence="confirmed", author_id=dana.id),
            CustomerEvent(customer_id=customer.id, type="order_placed", occurred_at=NOW, source="crm",
                          properties={"order": "A-77", "email": EMAIL})])
        ticket = Ticket(mention_id=ids["100"], author_id=dana.id, intent="complaint", team="care")
        other = Ticket(mention_id=ids["200"], author_id=bob.id, intent="complaint", team="care")
        session.add_all([ticket, other])
        session.flush()
        session.add_all([
            TicketMention(mention_id=ids["100"], ticket_id=ticket.id), TicketMention(mention_id=ids["101"],
                                                                                     ticket_id=ticket.id),
            TicketMention(mention_id=ids["200"], ticket_id=other.id),
            TicketEvent(ticket_id=ticket.id, kind="note", body=f"Called {NAME}, she wants a refund"),
            TicketEvent(ticket_id=ticket.id, kind="draft", body=f"Hi @{HANDLE}, we are on it"),
            TicketEvent(ticket_id=other.id, kind="note", body=f"Same outage as @{HANDLE.upper()} reported"),
            Reply(ticket_id=ticket.id, mention_id=ids["100"], network="x", account="nimbus",
                  body=f"@{HANDLE} sorry, fixed now", idempotency_key="k1", status="published", written_by=admin.id),
            AuthorInfluence(author_id=dana.id, brand_id=1, score=40, bot_signals={}),
            Alert(brand_id=1, rule="volume", title="Nimbus Mobile: spike", window_start=NOW, window_end=NOW,
                  dedupe_key="v1", evidence={"observed": 5, "top_mentions": [
                      {"mention_id": ids["101"], "network": "x", "text": TEXTS[1]},
                      {"mention_id": ids["201"], "network": "x", "text": "Nimbus Mobile works fine for me today"}]}),
            WebhookEvent(message_id="msg_1", type="customer.updated", subject=f"customer:{customer.id}",
                         payload={"customer": {"external_id": EXTERNAL, "identities": [{"value": EMAIL}]}}),
            IdempotentRequest(token_hash="t" * 64, key="k", fingerprint="f" * 64,
                              response={"status": 200, "body": {"author": HANDLE, "text": TEXTS[2]}}),
            Quarantine(origin="import:x.jsonl", location="line 9", reason="bad date",
                       payload=json.dumps({"text": TEXTS[0][:30], "user": HANDLE})),
            TermRollup(day=f"{NOW:%Y-%m-%d}", brand_id=1, network="x", label="PERSON", term=HANDLE, mentions=3),
            ReportRun(brand_id=1, cadence="weekly", period_end=NOW + timedelta(days=1), path=str(report))])
        topic = Topic(brand_id=1, label=f"call dropped · @{HANDLE}", terms=["call", HANDLE], size=2,
                      representative=[{"mention_id": ids["100"], "network": "x", "text": TEXTS[0]}])
        session.add(topic)
        session.flush()
        session.add_all([TopicMention(topic_id=topic.id, mention_id=ids["100"]),
                         TopicMention(topic_id=topic.id, mention_id=ids["201"])])
    refresh_overview(settings)
    from brandpulse.services.accounts import actor_of
    from store.models import User
    with session_scope(url) as session:
        users = {u.username: actor_of(u) for u in session.execute(select(User)).scalars()}
    return {"ids": ids, "dana": dana.id, "customer": customer.id, "ticket": ticket.id, "other_ticket": other.id,
            "admin": users["root"], "marketing": users["mkt"], "report": report, "posts": posts}


def _direct(url, world) -> dict[str, set]:
    """What a direct query of every table finds about Dana (the export must hold at least this)."""
    mine = [world["ids"][k] for k in ("100", "101", "102")]
    with session_scope(url) as session:
        def ids(column, where):
            return set(session.execute(select(column).where(where)).scalars())
        return {
            "customers": ids(Customer.id, Customer.external_id == EXTERNAL),
            "customer_identities": ids(CustomerIdentity.id, CustomerIdentity.customer_id == world["customer"]),
            "customer_events": ids(CustomerEvent.id, CustomerEvent.customer_id == world["customer"]),
            "authors": ids(Author.id, func.lower(Author.handle) == HANDLE),
            "mentions": ids(Mention.id, Mention.author_id == world["dana"]),
            "analyses": ids(Analysis.id, Analysis.mention_id.in_(mine)),
            "mention_brands": ids(MentionBrand.mention_id, MentionBrand.mention_id.in_(mine)),
            "author_influence": ids(AuthorInfluence.author_id, AuthorInfluence.author_id == world["dana"]),
            "tickets": ids(Ticket.id, Ticket.author_id == world["dana"]),
            "ticket_mentions": ids(TicketMention.mention_id, TicketMention.ticket_id == world["ticket"]),
            "ticket_events": ids(TicketEvent.id, TicketEvent.ticket_id == world["ticket"])
            | ids(TicketEvent.id, func.lower(TicketEvent.body).contains(HANDLE)),
            "replies": ids(Reply.id, Reply.ticket_id == world["ticket"]),
            "alerts": ids(Alert.id, Alert.id > 0),
            "topics": ids(Topic.id, Topic.id > 0),
            "topic_mentions": ids(TopicMention.mention_id, TopicMention.mention_id.in_(mine)),
            "webhook_events": ids(WebhookEvent.id, WebhookEvent.subject == f"customer:{world['customer']}"),
            "idempotent_requests": ids(IdempotentRequest.id, IdempotentRequest.id > 0),
            "quarantine": ids(Quarantine.id, Quarantine.id > 0),
            "term_rollups": ids(TermRollup.id, TermRollup.term == HANDLE),
            "report_runs": ids(ReportRun.id, ReportRun.id > 0),
            "mentions_naming_them": {world["ids"]["200"]},
        }


KEYS = {"mention_brands": "mention_id", "author_influence": "author_id", "ticket_mentions": "mention_id",
        "topic_mentions": "mention_id"}


def test_export_holds_every_row_the_person_appears_in(settings, tmp_path):
    world = _world(settings, tmp_path)
    exported = export_person(settings, world["admin"], PersonSelector(network="x", handle="@Dana_K"))
    json.dumps(exported)  # JSON-ready as it is
    for table, expected in _direct(settings.database.url, world).items():
        got = {row[KEYS.get(table, "id")] for row in exported["tables"][table]}
        assert expected <= got, table
        assert exported["counts"][table] == len(exported["tables"][table])
    texts = {m["text"] for m in exported["tables"]["mentions"]}
    assert texts == set(TEXTS) and exported["tables"]["customer_identities"][0]["evidence"]
    assert world["ids"]["201"] not in {m["id"] for m in exported["tables"]["mentions"]}  # Bob's own post is not hers
    by_customer = export_person(settings, world["admin"], PersonSelector(external_id=EXTERNAL))
    assert by_customer["counts"] == exported["counts"]


def _grep_targets(url: str) -> bytes:
    """Every byte the database keeps: the SQLite file and its WAL, or a pg_dump."""
    if url.startswith("sqlite"):
        path = Path(normalize_url(url).removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    dsn = normalize_url(url).replace("postgresql+psycopg://", "postgresql://")
    return subprocess.run(["pg_dump", "--no-owner", dsn], check=True, capture_output=True).stdout


def _rollup_totals(url):
    with session_scope(url) as session:
        return session.execute(select(func.sum(MentionRollup.mentions), func.sum(MentionRollup.complaints))).one()


def test_forget_leaves_no_trace_keeps_totals_and_a_reimport_does_not_restore(settings, tmp_path):
    url = settings.database.url
    world = _world(settings, tmp_path)
    before = _rollup_totals(url)
    with session_scope(url) as session:
        mentions_before = session.execute(select(func.count()).select_from(Mention)).scalar()
    summary = forget_person(settings, world["admin"], PersonSelector(external_id=EXTERNAL))
    assert summary.counts["mentions"] == 3 and summary.counts["customers"] == 1
    assert summary.counts["customer_identities"] == 2 and summary.counts["customer_events"] == 1
    dump = _grep_targets(url).lower()
    for secret in [HANDLE, NAME, EMAIL, EXTERNAL, "quillfield station", *TEXTS]:
        assert secret.lower().encode() not in dump, secret
    assert not world["report"].exists()
    assert _rollup_totals(url) == before
    with session_scope(url) as session:
        assert session.execute(select(func.count()).select_from(Mention)).scalar() == mentions_before
        erasure = session.get(Erasure, summary.erasure_id)
        assert (erasure.kind, erasure.actor, erasure.status) == ("forget", "root", "done")
        assert erasure.counts == summary.counts and "dana" not in json.dumps(erasure.counts) + erasure.scope
        assert session.execute(select(func.count()).select_from(Suppression)).scalar() == 4  # 3 posts, 1 author
        bob_post = session.get(Mention, world["ids"]["200"])
        assert bob_post.text == "[erased] same here, Nimbus Mobile is down in Quillfield too"
        assert bob_post.in_reply_to_id.startswith("erased:") and bob_post.raw["user"]["screen_name"] == "bob_b"
        tomb = session.get(Author, world["dana"])
        assert (tomb.handle, tomb.name, tomb.followers, tomb.customer_id) == ("[erased]", "", None, None)
        ticket = session.get(Ticket, world["ticket"])
        assert ticket.author_id == world["dana"]  # the ticket keeps its history, pointing at the tombstone
        notes = session.execute(select(TicketEvent.body)).scalars().all()
        assert "Same outage as [erased] reported" in notes and "Hi [erased], we are on it" in notes
        assert session.execute(select(Reply.body)).scalar_one() == "[erased] sorry, fixed now"
        assert session.execute(select(func.count()).select_from(Quarantine)).scalar() == 0
        assert session.execute(select(ReportRun.path)).scalar_one() == ""
    from store.search import which_mentions_contain
    with session_scope(url) as session:
        assert which_mentions_contain(session, "Brackenwood")[0] == []
    # a re-import of a file holding her posts stores none of them
    lines = [json.dumps({"network": "x", "id": p.native_id, "text": p.text, "created_at": p.created_at.isoformat(),
                         "author": {"id": p.author.native_id, "handle": p.author.handle}}) for p in world["posts"][:3]]
    lines.append(json.dumps({"network": "x", "id": "999", "text": "Nimbus Mobile new post by a new name",
                             "created_at": NOW.isoformat(), "author": {"id": "9001", "handle": "dana_new"}}))
    lines.append(json.dumps({"network": "x", "id": "300", "text": "Nimbus Mobile: replying to that old thread",
                             "created_at": NOW.isoformat(), "author": {"id": "9003", "handle": "cy"},
                             "in_reply_to_id": "101", "conversation_id": "100"}))
    dump_file = tmp_path / "again.jsonl"
    dump_file.write_text("\n".join(lines) + "\n")
    result = import_file(settings, dump_file, None)
    assert result.inserted == 1 and result.quarantined == 0  # only Cy's new reply
    with session_scope(url) as session:
        assert session.execute(select(func.count()).select_from(Mention)).scalar() == mentions_before + 1
        reply = session.execute(select(Mention).where(Mention.native_id == "300")).scalar_one()
        assert reply.in_reply_to_id == session.get(Mention, world["ids"]["101"]).native_id  # erased:<digest>
        assert reply.conversation_id.startswith("erased:")
    with pytest.raises(NotFoundError):
        forget_person(settings, world["admin"], PersonSelector(external_id=EXTERNAL))


def test_a_forget_cut_short_changes_nothing_and_its_rerun_completes(settings, tmp_path, monkeypatch):
    world = _world(settings, tmp_path)
    close = forgetting.close_erasure

    def killed(*args, **kwargs):
        raise RuntimeError("killed")
    monkeypatch.setattr(forgetting, "close_erasure", killed)
    with pytest.raises(RuntimeError):
        forget_person(settings, world["admin"], PersonSelector(network="x", handle=HANDLE))
    with session_scope(settings.database.url) as session:
        (erasure,) = session.execute(select(Erasure)).scalars().all()
        assert erasure.status == "running"
        assert session.get(Author, world["dana"]).handle == HANDLE  # rolled back whole
    monkeypatch.setattr(forgetting, "close_erasure", close)
    summary = forget_person(settings, world["admin"], PersonSelector(network="x", handle=HANDLE))
    assert summary.erasure_id == erasure.id
    with session_scope(settings.database.url) as session:
        assert session.get(Erasure, erasure.id).status == "done"
        # without --with-linked the customer stays, minus Dana's x identity
        assert session.get(Customer, world["customer"]) is not None
        kinds = session.execute(select(CustomerIdentity.kind)).scalars().all()
        assert kinds == ["email"]


def test_only_admins_export_or_forget(settings, tmp_path):
    world = _world(settings, tmp_path)
    for call in (export_person, forget_person):
        with pytest.raises(AccessDeniedError, match="admin"):
            call(settings, world["marketing"], PersonSelector(network="x", handle=HANDLE))
    with pytest.raises(NotFoundError):
        export_person(settings, world["admin"], PersonSelector(network="x", handle="nobody_here"))
