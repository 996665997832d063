"""Re-importing the posts of a forgotten person: the rows are dropped, and the import says how many
(every row of the file is accounted for on the summary line)."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from typer.testing import CliRunner

from brandpulse.cli.main import app
from brandpulse.services.importer import import_file
from store.engine import session_scope
from store.models import Mention
from store.users import add_user

runner = CliRunner()

ROWS = [
    {"id": "s1", "network": "x", "text": "Nimbus Mobile charged me twice", "created_at": "2026-11-20T10:00:00Z",
     "author": {"id": "u1", "handle": "ann"}},
    {"id": "s2", "network": "x", "text": "Nimbus Mobile still has not refunded me", "created_at": "2026-11-20T11:00:00Z",
     "author": {"id": "u1", "handle": "ann"}},
    {"id": "s3", "network": "x", "text": "Nimbus Mobile, third time asking", "created_at": "2026-11-20T12:00:00Z",
     "author": {"id": "u1", "handle": "ann"}},
    {"id": "s4", "network": "x", "text": "Nimbus Mobile coverage is fine here", "created_at": "2026-11-20T13:00:00Z",
     "author": {"id": "u2", "handle": "bo"}},
]


def invoke(*args):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _mentions(url):
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(Mention)).scalar()


def test_reimport_after_forget_counts_the_forgotten_persons_rows(settings, database_url, tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    code, output = invoke("import", str(path))
    assert code == 0, output
    assert "4 rows: 4 new, 0 already stored" in output and "0 suppressed (forgotten people)" in output
    with session_scope(database_url) as session:
        add_user(session, "root", "pw-root-123456", "admin")
    code, output = invoke("people", "forget", "--as", "root", "--network", "x", "--handle", "ann", "--yes")
    assert code == 0, output
    assert _mentions(database_url) == 4  # the rows stay, emptied ([erased]); nothing new comes back

    code, output = invoke("import", str(path))
    assert code == 0, output
    line = " ".join(output.split())
    assert ("4 rows: 0 new, 1 already stored, 0 repeated in the file, 0 quarantined, "
            "3 suppressed (forgotten people), 0 matching no brand query") in line, output
    assert _mentions(database_url) == 4

    again = import_file(settings, path)
    assert (again.rows, again.inserted, again.existing, again.quarantined, again.suppressed) == (4, 0, 1, 0, 3)
    assert again.inserted + again.existing + again.repeated + again.quarantined + again.suppressed == again.rows
