"""Property: whatever rows or bytes a file holds, an import stores or quarantines every row and
raises nothing but ImportFormatError (for a file that is not text at all)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from brandpulse.core.errors import ImportFormatError
from brandpulse.services.importer import import_file
from collectors.tabular import ALIASES, CANONICAL

PROFILE = hsettings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
KEYS = st.sampled_from(sorted(set(CANONICAL) | set(ALIASES))) | st.text(max_size=12)
SCALARS = (st.text(max_size=60) | st.integers(min_value=-(2**70), max_value=2**70) | st.floats()
           | st.booleans() | st.none()
           | st.sampled_from(["Nimbus Mobile", "nimbus MOBILE", "2026-11-01", "1e400", "NaN", "\x00",
                              "99999999999999999999", "9999-12-31", "\ud800", "-1", "x" * 300]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)
ROWS = st.lists(st.dictionaries(KEYS, VALUES, max_size=8), min_size=1, max_size=12)


def accounted(result) -> bool:
    return result.rows == result.inserted + result.existing + result.repeated + result.quarantined


@PROFILE
@given(rows=ROWS)
def test_any_jsonl_rows_are_each_stored_or_quarantined(settings, database_url, tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("p") / "rows.jsonl"
    lines = [json.dumps({"text": "Nimbus Mobile", "created_at": "2026-11-01", **row}) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    result = import_file(settings, path)
    assert result.rows == len(rows) and accounted(result)


@PROFILE
@given(rows=ROWS)
def test_any_csv_cells_are_each_stored_or_quarantined(settings, database_url, tmp_path_factory, rows):
    header = sorted({key for row in rows for key in row} | {"text", "created_at"})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header)
    writer.writeheader()
    for row in rows:
        writer.writerow({"text": "Nimbus Mobile", "created_at": "2026-11-01",
                         **{k: v if not isinstance(v, float) or math.isfinite(v) else str(v)
                            for k, v in row.items()}})
    path = tmp_path_factory.mktemp("p") / "rows.csv.gz"
    path.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8", "surrogatepass")))
    result = import_file(settings, path)
    assert accounted(result)


@PROFILE
@given(content=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".jsonl", ".csv.gz", ".jsonl.gz"]))
def test_any_bytes_give_a_result_or_one_clear_error(settings, database_url, tmp_path_factory, content, suffix):
    path = tmp_path_factory.mktemp("p") / f"random{suffix}"
    path.write_bytes(content)
    try:
        result = import_file(settings, path)
    except ImportFormatError as exc:
        assert path.name in str(exc)
    else:
        assert accounted(result)
