"""The retention: and deletions: sections refuse true/false where a number belongs (YAML reads yes/no/on/off
as booleans, which would pass as 1 or 0), and a retention shorter than the care window is one short line
naming both keys and the fix (not the whole file quoted back first)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from brandpulse.cli.main import app
from brandpulse.core.errors import ConfigError
from brandpulse.core.settings import load_settings

runner = CliRunner()
HEAD = "brands:\n  - name: Acme\n    query: acme\n    competitors:\n" + "".join(
    f"      - name: Rival {i}\n        query: rival{i}\n" for i in range(40)) + "database:\n  url: sqlite:///x.db\n"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def refused(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return str(info.value)


@pytest.mark.parametrize("section, key, word", [
    ("retention", "raw_days", "true"), ("retention", "text_days", "yes"), ("retention", "closed_ticket_days", "on"),
    ("retention", "raw_days", "false"), ("retention", "batch_size", "true"), ("retention", "interval_hours", "no"),
    ("deletions", "recheck_days", "true"), ("deletions", "recheck_per_run", "yes"),
    ("deletions", "interval_hours", "on"),
])
def test_a_boolean_where_a_number_belongs_is_refused(tmp_path, section, key, word):
    path = write(tmp_path, f"{section}:\n  {key}: {word}\n")
    message = refused(path)
    assert "\n" not in message
    assert f"{section}.{key}" in message and "must be a number, not" in message, message
    assert "write a number" in message and str(path) in message


def test_numbers_still_load(tmp_path):
    settings = load_settings(write(tmp_path, "retention:\n  raw_days: 1\n  text_days: 30\n  interval_hours: 1.5\n"
                                             "deletions:\n  recheck_days: 3\n"))
    assert (settings.retention.raw_days, settings.retention.text_days, settings.retention.interval_hours) == (1, 30, 1.5)
    assert settings.retention.days("raw") == 1 and settings.deletions.recheck_days == 3


def test_text_days_below_the_care_window_is_one_short_line(tmp_path):
    path = write(tmp_path, "care:\n  ticket_max_age_days: 7\nretention:\n  text_days: 3\n")
    message = refused(path)
    assert "\n" not in message and len(message) < 300 + len(str(path)), message
    assert message.startswith(f"{path}: retention.text_days is 3, but care.ticket_max_age_days is 7"), message
    assert "set retention.text_days to 8 or more" in message
    assert "top level" not in message and "Rival" not in message and "characters)" not in message


@pytest.mark.parametrize("body, expected", [
    ("retention:\n  raw_days: true\n", "retention.raw_days"),
    ("care:\n  ticket_max_age_days: 7\nretention:\n  text_days: 3\n", "care.ticket_max_age_days is 7"),
])
def test_cli_prints_one_line_and_exits_1(tmp_path, monkeypatch, body, expected):
    path = write(tmp_path, body)
    monkeypatch.setenv("BRANDPULSE_CONFIG", str(path))
    monkeypatch.setenv("COLUMNS", "500")
    monkeypatch.delenv("BRANDPULSE_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.output
    assert "top level" not in lines[0] and "Rival" not in lines[0]
