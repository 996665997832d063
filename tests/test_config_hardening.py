"""Any config file, however broken or hostile, gives Settings or one ConfigError naming file, key/line
and fix: never a traceback, never a hang. Property-based over random bytes, YAML and mutated configs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import typing
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from pydantic import BaseModel

from brandpulse.core.config_yaml import MAX_BYTES, MAX_DEPTH
from brandpulse.core.errors import ConfigError
from brandpulse.core.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (ROOT / "config.yaml").read_text(encoding="utf-8")
VALID = "brands:\n  - name: Acme\n    query: acme\ndatabase:\n  url: sqlite:///x.db\n"
BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n"
                  for i in range(8)))
FUZZ = hsettings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def write(tmp_path: Path, body: str | bytes, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    return path


def refused(path: Path, *expected: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    for text in expected:
        assert text in message, message
    return message


HOSTILE = {
    "invalid_utf8": (b"brands:\n  - name: Acme\n    query: caf\xe9\n", ["not UTF-8", "line 3", "save the file as UTF-8"]),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["binary file"]),
    "empty": (b"", ["is empty"]),
    "comments_only": (b"# nothing here\n\n", ["is empty"]),
    "null_document": (b"---\n...\n", ["is empty"]),
    "list": (b"- a\n- b\n", ["must hold a mapping"]),
    "scalar": (b"just words\n", ["must hold a mapping"]),
    "duplicate_top": (b"brands: []\nnlp: {}\nbrands: []\n", ["line 3", "brands is given twice", "line 1"]),
    "duplicate_nested": (b"sources:\n  x:\n    enabled: true\n    enabled: false\n",
                         ["line 4", "sources.x.enabled is given twice"]),
    "alias_bomb": (BOMB.encode(), ["aliases"]),
    "alias_loop": (b"brands: &b [*b]\n", ["refers to the block that contains it"]),
    "deep_flow": (("a: " + "[" * 5000 + "]" * 5000).encode(), ["nest"]),
    "deep_block": ("".join(" " * i + f"k{i}:\n" for i in range(200)).encode(), [f"deeper than {MAX_DEPTH}"]),
    "huge": (b"# " + b"x" * (MAX_BYTES + 10) + b"\n", ["KiB limit"]),
    "two_documents": (b"brands: []\n---\nnlp: {}\n", ["single document"]),
    "python_tag": (b"brands: !!python/object/apply:os.system [ls]\n", ["not valid YAML"]),
    "bad_syntax": (b"brands: [\n", ["not valid YAML", "line"]),
    "tabs": (b"sources:\n\tx: 1\n", ["not valid YAML"]),
    "control_char": (b"brands: \x01\n", ["not valid YAML"]),
    "nul_escape": (b'brands:\n  - name: "Ac\\0me"\n    query: acme\n', ["line 2", "brands[0].name contains a NUL"]),
    "nul_in_list": (b'sources:\n  rss:\n    feeds: ["https://a.example/\\0feed"]\n', ["line 3", "sources.rss.feeds[0] contains a NUL"]),
    "nul_in_key": (b'care:\n  canned_replies: {"a\\0b": hi}\n', ["line 2", "key under care.canned_replies contains a NUL"]),
    "number_key": (b"brands: []\n1: 2\n", ["line 2", "key '1' is not a name", "quotes"]),
    "null_key": (b"nlp:\n  null: 3\n", ["line 2", "is not a name"]),
    "bool_key": (b"care:\n  canned_replies:\n    yes: thanks\n", ["line 3", "is not a name"]),
    "complex_key": (b"? [a, b]\n: 1\n", ["line 1", "is not a name"]),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_gives_one_clear_error(tmp_path, name):
    body, expected = HOSTILE[name]
    started = time.monotonic()
    refused(write(tmp_path, body), *expected)
    assert time.monotonic() - started < 5


def test_byte_order_mark_is_accepted(tmp_path):
    assert load_settings(write(tmp_path, b"\xef\xbb\xbf" + VALID.encode())).brands[0].name == "Acme"


def test_merge_keys_still_work(tmp_path):
    body = ("care:\n  teams:\n    - &base {name: care, first_response_minutes: 30}\n"
            "    - {<<: *base, name: vip}\n")
    teams = load_settings(write(tmp_path, body)).care.teams
    assert [(t.name, t.first_response_minutes) for t in teams] == [("care", 30), ("vip", 30)]


def test_directory_and_missing_file(tmp_path, monkeypatch):
    refused(tmp_path, "is a directory")
    missing = tmp_path / "nope.yaml"
    monkeypatch.setenv("BRANDPULSE_CONFIG", str(missing))
    with pytest.raises(ConfigError, match="from BRANDPULSE_CONFIG=") as info:
        load_settings()
    assert str(missing) in str(info.value)
    monkeypatch.setenv("BRANDPULSE_CONFIG", "/dev/null")
    with pytest.raises(ConfigError, match="not a regular file"):
        load_settings()


ABSURD = ["1e308", "1.0e+308", ".inf", "-.inf", ".nan", "-1", "-1e308", str(10 ** 30), "'1e400'", "'NaN'"]
NUMERIC_KEYS = [
    "nlp:\n  interval_seconds: {v}\n",
    "nlp:\n  batch_size: {v}\n",
    "alerts:\n  interval_seconds: {v}\n",
    "alerts:\n  cooldown_minutes: {v}\n",
    "alerts:\n  volume_spike:\n    threshold: {v}\n",
    "care:\n  interval_seconds: {v}\n",
    "care:\n  teams:\n    - name: care\n      first_response_minutes: {v}\n",
    "sources:\n  x:\n    cadence_minutes: {v}\n",
    "sources:\n  x:\n    daily_cap_usd: {v}\n",
    "sources:\n  bluesky:\n    listen_seconds: {v}\n",
    "sources:\n  bluesky:\n    max_events: {v}\n",
    "influence:\n  recency_days: {v}\n",
    "topics:\n  interval_minutes: {v}\n",
]


@pytest.mark.parametrize("template", NUMERIC_KEYS)
def test_absurd_numbers_are_refused_with_key_and_line(tmp_path, template):
    key = template.split("{v}")[0].rsplit("\n", 1)[-1].strip(" -:")
    for value in ABSURD:
        message = refused(write(tmp_path, template.format(v=value)), key, "(line ")
        assert "Traceback" not in message and "\n" not in message


def _numeric_fields(model: type[BaseModel], seen: set, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    if model in seen:
        return found
    seen.add(model)
    for name, field in model.model_fields.items():
        annotation = field.annotation
        args = typing.get_args(annotation) or (annotation,)
        for arg in args:
            inner = typing.get_args(arg) or (arg,)
            for kind in inner:
                if isinstance(kind, type) and issubclass(kind, BaseModel):
                    found += _numeric_fields(kind, seen, f"{prefix}{name}.")
                elif kind in (int, float) and not isinstance(field.default, bool):
                    found.append((f"{prefix}{name}", field))
    return found


def test_every_numeric_setting_has_an_upper_bound():
    fields = _numeric_fields(Settings, set())
    assert len(fields) > 40
    unbounded = [name for name, field in fields
                 if not any(getattr(m, "le", None) is not None or getattr(m, "lt", None) is not None
                            for m in field.metadata)]
    assert not unbounded, f"give these settings a sane upper bound (le=...): {unbounded}"


@pytest.mark.parametrize("zone", ["a" * 5000, "America", "../../etc/passwd", "Europe/Nowhere", ""])
def test_odd_time_zones_are_refused(tmp_path, zone):
    body = yaml.safe_dump({"care": {"teams": [{"name": "care", "business_hours": {"timezone": zone}}]}})
    message = refused(write(tmp_path, body), "timezone")
    assert len(message) < 1000


def test_query_nested_too_deep_or_too_long_is_refused(tmp_path):
    deep = "(" * 3000 + "acme" + ")" * 3000
    refused(write(tmp_path, yaml.safe_dump({"brands": [{"name": "A", "query": deep}]})), "brands[0].query")
    long = " OR ".join(f"word{i}" for i in range(2000))
    refused(write(tmp_path, yaml.safe_dump({"brands": [{"name": "A", "query": long}]})), "brands[0].query")


def test_database_section_of_the_wrong_type_with_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv("BRANDPULSE_DATABASE_URL", "sqlite:///y.db")
    refused(write(tmp_path, "database: [1, 2]\n"), "database")
    monkeypatch.setenv("BRANDPULSE_DATABASE_URL", "mysql://x")
    refused(write(tmp_path, VALID), "database.url", "environment variable BRANDPULSE_DATABASE_URL")


def test_thousands_of_problems_are_counted_not_all_listed(tmp_path):
    body = yaml.safe_dump({"brands": [{"name": f"b{i}", "query": "("} for i in range(300)]})
    message = refused(write(tmp_path, body), "has 300 problems", "... and 280 more")
    assert len(message.splitlines()) == 22


def _outcome(path: Path) -> None:
    try:
        load_settings(path)
    except ConfigError as exc:
        assert str(exc).strip()


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_give_settings_or_config_error(tmp_path, data):
    _outcome(write(tmp_path, data))


SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2 ** 70), max_value=2 ** 70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30))
DOCS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(list(Settings.model_fields) + ["enabled", "x", "name",
                                                                                     "query", "url", "teams"])
                                      | st.text(max_size=8), inner, max_size=4), max_leaves=30)


@FUZZ
@given(DOCS)
def test_random_yaml_documents_give_settings_or_config_error(tmp_path, doc):
    _outcome(write(tmp_path, yaml.safe_dump(doc, allow_unicode=True)))


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


SHIPPED_DATA = yaml.safe_load(SHIPPED)
SHIPPED_PATHS = [p for p in _paths(SHIPPED_DATA) if p]


@FUZZ
@given(st.sampled_from(SHIPPED_PATHS), SCALARS | DOCS)
def test_mutated_valid_config_gives_settings_or_config_error(tmp_path, where, value):
    data = yaml.safe_load(SHIPPED)
    target = data
    for part in where[:-1]:
        target = target[part]
    target[where[-1]] = value
    _outcome(write(tmp_path, yaml.safe_dump(data, allow_unicode=True)))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(SHIPPED)), st.integers(0, 40),
                          st.text(alphabet=":-[]{}&*!|>'\"#%@`,? \n\t\\0123456789abcxyz.", max_size=6)),
                min_size=1, max_size=5))
def test_randomly_edited_config_text_gives_settings_or_config_error(tmp_path, edits):
    text = SHIPPED
    for at, length, insert in edits:
        text = text[:at] + insert + text[at + length:]
    _outcome(write(tmp_path, text))


CLI_FILES = {
    "invalid_utf8": HOSTILE["invalid_utf8"][0],
    "duplicate_keys": HOSTILE["duplicate_top"][0],
    "alias_bomb": HOSTILE["alias_bomb"][0],
    "absurd_number": b"nlp:\n  interval_seconds: 1e308\n",
}


@pytest.mark.parametrize("name", sorted(CLI_FILES) + ["directory", "missing"])
def test_cli_prints_one_line_and_exits_1(tmp_path, name):
    if name == "directory":
        path = tmp_path
    elif name == "missing":
        path = tmp_path / "missing.yaml"
    else:
        path = write(tmp_path, CLI_FILES[name])
    env = {**os.environ, "BRANDPULSE_CONFIG": str(path), "COLUMNS": "500"}
    env.pop("BRANDPULSE_DATABASE_URL", None)
    commands = ["doctor", "init"] if name in ("alias_bomb", "missing") else ["doctor"]
    for command in commands:
        done = subprocess.run([sys.executable, "-m", "brandpulse.cli.main", command], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr + done.stdout
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
