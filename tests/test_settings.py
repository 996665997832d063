"""Settings load from config.yaml, name the key, value and fix on error, and keep secrets out."""

from pathlib import Path

import pytest

from brandpulse.core.errors import ConfigError
from brandpulse.core.settings import Secrets, load_settings, tracked_brands

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path, body: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_shipped_config_and_demo_config_load():
    settings = load_settings(ROOT / "config.yaml")
    assert settings.brands[0].name == "Nimbus Mobile"
    assert [t.name for t in settings.care.teams] == ["care", "vip"]
    demo = load_settings(ROOT / "brandpulse" / "demo" / "config.yaml")
    assert {b.name for b in tracked_brands(demo)} == {
        "Nimbus Mobile", "Vertex Telecom", "Orbit Wireless", "Brewhaven", "Grindhouse Coffee"}


def test_unknown_key_names_key_and_suggests_the_fix(tmp_path):
    path = write(tmp_path, "sources:\n  fille:\n    enabled: true\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert "config.yaml: sources.fille (line 2): unknown key" in message
    assert "did you mean 'file'" in message


def test_bad_value_names_key_value_and_fix(tmp_path):
    path = write(tmp_path, "nlp:\n  batch_size: -3\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert "nlp.batch_size" in message and "-3" in message and "change the value" in message


def test_bad_query_is_reported_with_its_brand(tmp_path):
    path = write(tmp_path, "brands:\n  - name: Acme\n    query: '(acme OR'\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert "brands[0].query" in str(info.value) and "(acme OR" in str(info.value)


def test_routing_to_unknown_team_is_refused(tmp_path):
    path = write(tmp_path, "care:\n  routing:\n    - {team: ghosts}\n")
    with pytest.raises(ConfigError, match="ghosts"):
        load_settings(path)


def test_secrets_are_refused_in_config_yaml(tmp_path):
    path = write(tmp_path, "sources:\n  x:\n    bearer_token: abc\n")
    with pytest.raises(ConfigError, match="BRANDPULSE_X_BEARER_TOKEN"):
        load_settings(path)


def test_secrets_come_from_environment_and_dotenv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("BRANDPULSE_REDDIT_CLIENT_ID=from-dotenv\n")
    monkeypatch.setenv("BRANDPULSE_X_BEARER_TOKEN", "from-env")
    secrets = Secrets()
    assert secrets.x_bearer_token == "from-env"
    assert secrets.reddit_client_id == "from-dotenv"


def test_environment_picks_file_and_overrides_database(tmp_path, monkeypatch):
    path = write(tmp_path, "database:\n  url: sqlite:///a.db\n")
    monkeypatch.setenv("BRANDPULSE_CONFIG", str(path))
    assert load_settings().database.url == "sqlite:///a.db"
    monkeypatch.setenv("BRANDPULSE_DATABASE_URL", "sqlite:///b.db")
    assert load_settings().database.url == "sqlite:///b.db"


def test_missing_file_and_broken_yaml_say_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="BRANDPULSE_CONFIG"):
        load_settings(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(write(tmp_path, "brands: [\n"))


def test_unsupported_database_url_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="database.url"):
        load_settings(write(tmp_path, "database:\n  url: mysql://x\n"))
