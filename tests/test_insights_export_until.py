"""`brandpulse export influencers --until D` includes day D and nothing after it, and is refused before
--since (issue 20)."""

import csv
from datetime import datetime, timedelta, timezone

from typer.testing import CliRunner

from brandpulse.cli.main import app
from brandpulse.core.records import AuthorRecord, MentionRecord
from store.engine import session_scope
from store.mentions import save_mentions

runner = CliRunner()
DAY = (datetime.now(timezone.utc) - timedelta(days=10)).replace(hour=0, minute=0, second=0, microsecond=0)


def _post(native_id: str, handle: str, when: datetime) -> MentionRecord:
    author = AuthorRecord("x", f"id-{handle}", handle=handle, followers=500)
    return MentionRecord(network="x", native_id=native_id, text=f"Nimbus Mobile coverage is fine ({handle})",
                         brands=["Nimbus Mobile"], created_at=when, author=author, likes=3,
                         url=f"https://x.com/{handle}/status/{native_id}")


def test_until_includes_its_day_and_excludes_later_days(write_config, database_url, tmp_path):
    write_config()
    with session_scope(database_url) as session:
        save_mentions(session, [_post("1", "early", DAY - timedelta(days=2)),
                                _post("2", "late_on_the_day", DAY + timedelta(hours=23, minutes=30)),
                                _post("3", "next_day", DAY + timedelta(days=1, hours=1))])
    output = tmp_path / "board.csv"
    since, until = (DAY - timedelta(days=3)).date().isoformat(), DAY.date().isoformat()
    result = runner.invoke(app, ["export", "influencers", "--brand", "Nimbus Mobile", "--format", "csv",
                                 "--since", since, "--until", until, "--output", str(output)])
    assert result.exit_code == 0, result.output
    with output.open(encoding="utf-8") as handle:
        handles = {row["handle"] for row in csv.DictReader(line for line in handle if line.strip()
                                                           and not line.startswith("#"))}
    assert handles == {"early", "late_on_the_day"}

    result = runner.invoke(app, ["export", "influencers", "--brand", "Nimbus Mobile", "--since", until,
                                 "--until", since, "--output", str(tmp_path / "refused.xlsx")])
    out = " ".join(result.output.split())
    assert result.exit_code == 1 and "Traceback" not in out
    assert f"error: --until {since} is before --since {until}" in out
    assert not (tmp_path / "refused.xlsx").exists()
