"""`brandpulse report` and `brandpulse export` refuse bad arguments with one clear line, before any work."""

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from brandpulse.cli.main import app

runner = CliRunner()


@pytest.fixture
def config(tmp_path, monkeypatch):
    """A config whose database is never reached: every argument here is refused before it."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"brands": [{"name": "Nimbus Mobile", "query": "nimbus"}],
                                    "database": {"url": f"sqlite:///{tmp_path / 'none.db'}"}}))
    monkeypatch.setenv("BRANDPULSE_CONFIG", str(path))
    monkeypatch.delenv("BRANDPULSE_DATABASE_URL", raising=False)
    return tmp_path


def refused(args, code=1):
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    return " ".join(result.output.split())


def unwritable_folder(tmp_path: Path) -> Path:
    if os.geteuid() == 0:  # root writes anywhere a permission allows; sysfs refuses new files even to root
        return Path("/sys")
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    return folder


@pytest.mark.parametrize("command", [["report", "--brand", "Nimbus Mobile"],
                                     ["export", "influencers", "--brand", "Nimbus Mobile", "--format", "pdf"]])
def test_output_paths_that_cannot_be_written_are_refused_clearly(config, command):
    out = refused([*command, "--output", str(config / "missing" / "r.pdf")])
    assert f"error: cannot write the report to {config / 'missing' / 'r.pdf'}: the folder" in out
    assert "does not exist; create it first" in out
    out = refused([*command, "--output", str(config)])
    assert f"{config}: it is a folder; name a file in it" in out
    out = refused([*command, "--output", str(config / "config.yaml" / "r.pdf")])
    assert "is a file, not a folder" in out
    out = refused([*command, "--output", str(unwritable_folder(config) / "r.pdf")])
    assert "cannot create files in" in out and "choose a writable path" in out
    assert not (config / "missing").exists() and not (config / "none.db").exists()  # refused before any work


def test_export_refuses_a_future_since_and_a_limit_below_one(config):
    args = ["export", "influencers", "--brand", "Nimbus Mobile", "--output", str(config / "board.xlsx")]
    later = (date.today() + timedelta(days=2)).isoformat()
    out = refused([*args, "--since", later])
    assert f"error: --since {later} is in the future; give a day up to today" in out
    out = refused([*args, "--since", "last week"])
    assert "error: --since 'last week' is not a date; write it as YYYY-MM-DD" in out
    for limit in ("-5", "0"):  # a usage error, as click gives for every bad option
        out = refused([*args, "--limit", limit], code=2)
        assert "Invalid value for '--limit': Input should be greater than or equal to 1" in out
    out = refused([*args, "--format", "DOCX"])
    assert "error: format 'DOCX' is not one of csv, xlsx, pdf" in out


def test_until_a_day_includes_that_day_and_a_time_is_taken_as_given():
    from datetime import datetime, timezone

    from brandpulse.cli.alerts import parse_day

    assert parse_day("2026-11-20", "--until", end_of_day=True) == datetime(2026, 11, 21, tzinfo=timezone.utc)
    assert parse_day("2026-11-20T18:00", "--until", end_of_day=True) == datetime(2026, 11, 20, 18,
                                                                                  tzinfo=timezone.utc)
    assert parse_day("2026-11-20", "--since") == datetime(2026, 11, 20, tzinfo=timezone.utc)
