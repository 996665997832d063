"""Shared fixtures: real SQLite always, real PostgreSQL when BRANDPULSE_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("COLUMNS", "200")  # command output is read at one width, whatever runs the tests
from sqlalchemy import create_engine, text

from brandpulse.core.settings import load_settings
from store.engine import get_engine, migrate, normalize_url

FIXTURES = Path(__file__).parent / "fixtures"
PG_URL = os.environ.get("BRANDPULSE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
LEFT_BEHIND = pytest.StashKey[bool]()

BASE_CONFIG = {
    "brands": [{
        "name": "Nimbus Mobile",
        "query": '("nimbus mobile" OR nimbusmobile) NOT "nimbus cloud"',
        "competitors": [{"name": "Vertex Telecom", "query": '"vertex telecom" OR vertextelecom'}],
    }],
    "nlp": {"analyzer": "lexicon"},  # fast and deterministic; the model has its own tests
    "care": {"teams": [{"name": "care"}, {"name": "vip", "first_response_minutes": 15}],
             "routing": [{"team": "vip", "min_followers": 100000}], "default_team": "care"},
}


@pytest.fixture(autouse=True)
def _fresh_secret_registry():
    """Each test starts with no remembered secrets: one test's token "secret" must not mask the
    word secret in another test's messages."""
    from brandpulse.core.redaction import forget_secrets

    forget_secrets()
    yield
    forget_secrets()


def _admin_url(url: str, database: str) -> str:
    return normalize_url(url).rsplit("/", 1)[0] + "/" + database


@pytest.fixture(scope="session")
def postgres_database():
    """A throwaway database on the test server, created once and dropped at the end."""
    if not PG_URL:
        pytest.skip("BRANDPULSE_TEST_POSTGRES_URL is not set")
    name = f"brandpulse_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = _admin_url(PG_URL, name)
    migrate(url)
    yield url
    get_engine(url).dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty(url: str) -> None:
    """Empty every table the last test wrote to and restart every used id sequence (a TRUNCATE of
    all tables costs 0.2 s a test; deleting the few rows a test left costs milliseconds)."""
    engine = get_engine(url)
    with engine.begin() as connection:
        tables = [row[0] for row in connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'"))]
        used = [row[0] for row in connection.execute(text(" UNION ALL ".join(
            f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM \"{table}\")" for table in tables)))]
        connection.execute(text("SET LOCAL session_replication_role = replica"))  # no FK order needed
        for table in used:
            connection.execute(text(f'DELETE FROM "{table}"'))
        for sequence in connection.execute(text(
                "SELECT schemaname || '.' || sequencename FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL")).scalars().all():
            connection.execute(text("SELECT setval(:sequence, 1, false)"), {"sequence": sequence})


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated, empty SQLite file, made once per test process and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "brandpulse.db"
    url = f"sqlite:///{path}"
    migrate(url)
    get_engine(url).dispose()  # checkpointed: the one file holds everything
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """A migrated, empty database on each backend under test."""
    if request.param == "sqlite":
        path = tmp_path / "brandpulse.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        yield url
        get_engine(url).dispose()
    else:
        url = request.getfixturevalue("postgres_database")
        _empty(url)
        yield url


def config_writer(tmp_path, database_url: str, monkeypatch):
    """write(**overrides): a config.yaml (the base config with top-level keys replaced) on
    ``database_url``, with BRANDPULSE_CONFIG pointing at it; returns its Settings."""
    def write(**overrides):
        config = yaml.safe_load(yaml.safe_dump(BASE_CONFIG))
        config.update(overrides)
        config["database"] = {"url": database_url}
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        monkeypatch.setenv("BRANDPULSE_CONFIG", str(path))
        monkeypatch.delenv("BRANDPULSE_DATABASE_URL", raising=False)
        return load_settings(path)
    return write


@pytest.fixture
def write_config(tmp_path, database_url, monkeypatch):
    """Write a config.yaml (base config, top-level keys replaced) and point BRANDPULSE_CONFIG at it."""
    return config_writer(tmp_path, database_url, monkeypatch)


@pytest.fixture
def settings(write_config):
    return write_config()


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The demo database (SYNTHETIC data, real model), built once per test session."""
    from brandpulse.demo import prepare_demo

    result = prepare_demo(tmp_path_factory.mktemp("demo"))
    yield result
    get_engine(result.settings.database.url).dispose()


def pytest_collection_modifyitems(config, items):
    """Tests on the demo database run in one xdist worker, so the demo is built once per run."""
    if not config.pluginmanager.hasplugin("xdist"):  # -p no:xdist: one process, nothing to group
        return
    for item in items:
        if "demo" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("demo"))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """(xdist) A worker that left processes behind fails the whole run."""
    left = getattr(node, "workeroutput", {}).get("left_processes")
    if left:
        print(f"\ntests in {node.gateway.id} left processes running (killed): {left}")
        node.config.stash[LEFT_BEHIND] = True


def pytest_sessionfinish(session, exitstatus):
    """The suite leaves no process behind: a child still running now is killed and fails the run.

    joblib's reusable worker pool (scikit-learn) is shut down first; Python's resource trackers
    end by themselves with the interpreter and are not counted. Under xdist each worker checks
    its own children and the run fails when any worker left one.
    """
    import psutil

    if session.config.pluginmanager.hasplugin("dsession"):  # the xdist controller: workers checked
        if session.config.stash.get(LEFT_BEHIND, False):
            session.exitstatus = 1
        return

    try:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)
    except Exception:  # noqa: BLE001 - no pool was ever started
        pass
    children = psutil.Process().children(recursive=True)
    psutil.wait_procs(children, timeout=5)
    left = []
    for process in children:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE and \
                    "resource_tracker" not in " ".join(process.cmdline()):
                left.append((process, " ".join(process.cmdline()[:4])))
        except psutil.NoSuchProcess:
            continue
    if left:
        print("\ntests left processes running (killed now): "
              + ", ".join(f"{p.pid} {cmd}" for p, cmd in left))
        for process, _ in left:
            process.kill()
        session.exitstatus = 1
        if hasattr(session.config, "workeroutput"):
            session.config.workeroutput["left_processes"] = ", ".join(cmd for _, cmd in left)
