"""What a hostile tester found after the first hardening pass, each kept from coming back."""

from __future__ import annotations

import gzip
import json
import os
import time

import pytest
from typer.testing import CliRunner

from brandpulse.cli.main import app
from brandpulse.core.errors import BrandpulseError, ImportFormatError, RecordError
from brandpulse.services.importer import import_file
from brandpulse.services.quarantining import export_quarantined, list_quarantined
from collectors.tabular import ColumnMap, parse_time

ROW = {"text": "Nimbus Mobile works", "created_at": "2026-11-01T10:00:00Z"}


def test_an_unclosed_quote_costs_its_own_row_only(settings, database_url, tmp_path):
    path = tmp_path / "unbalanced.csv"
    path.write_text('id,text,created_at\nq1,"nimbus mobile 12"" screen is broken,2024-05-01\n'
                    + "".join(f"q{i},nimbus mobile good {i},2024-05-01\n" for i in range(2, 6))
                    + 'q6,"Nimbus Mobile over\ntwo lines",2024-05-01\n')
    result = import_file(settings, path)
    assert (result.inserted, result.quarantined) == (5, 1)
    assert "never closed" in result.first_quarantined[0][1]


def test_a_small_truncated_gzip_keeps_the_rows_before_the_cut(settings, database_url, tmp_path):
    body = "".join(json.dumps({**ROW, "id": str(i)}) + "\n" for i in range(200)).encode()
    packed = gzip.compress(body)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    result = import_file(settings, path)
    assert result.inserted > 50 and any("ends early" in w for w in result.warnings)


def test_semicolon_excel_csv_and_duplicate_columns(settings, database_url, tmp_path):
    semi = tmp_path / "semi.csv"
    semi.write_text('id;text;created_at\n1;Nimbus Mobile eins;2024-05-01\n2;"Nimbus Mobile; zwei";2024-05-01\n')
    assert import_file(settings, semi).inserted == 2
    twice = tmp_path / "twice.csv"
    twice.write_text("id,text,text,created_at\n1,a,Nimbus Mobile,2024-05-01\n")
    with pytest.raises(ImportFormatError, match="'text' more than once"):
        import_file(settings, twice)
    with pytest.raises(ImportFormatError, match="two columns map to text"):
        ColumnMap.parse(["id=text", "body=text"])


@pytest.mark.parametrize("value", ["-1", "-5", "May", "3pm", "2024", "2024-05-01 10:00 PST", "1e3"])
def test_partial_dates_and_unknown_zones_are_refused_not_guessed(value):
    with pytest.raises(RecordError):
        parse_time(value)


def test_compact_dates_epochs_and_iso_still_read():
    assert parse_time("20240501").isoformat() == "2024-05-01T00:00:00+00:00"
    assert parse_time("1700000000").year == parse_time("1700000000123").year == 2023
    assert parse_time("Wed Oct 10 20:19:24 +0000 2018").hour == 20


def test_wrong_types_get_the_right_reason_and_bad_arguments_stop_first(settings, database_url, tmp_path):
    path = tmp_path / "types.jsonl"
    path.write_text("\n".join(json.dumps({**ROW, **fields}) for fields in
                              [{"id": [1, 2]}, {"id": True}, {"id": "ok", "text": 12345}]) + "\n")
    reasons = [reason for _, reason in import_file(settings, path).first_quarantined]
    assert reasons[0].startswith("native_id is a list") and reasons[1].startswith("native_id is a bool")
    assert reasons[2].startswith("text is a int")
    with pytest.raises(ImportFormatError, match="--network 'nope'"):
        import_file(settings, path, network="nope")


def test_a_changed_file_under_the_same_name_keeps_earlier_bad_rows(settings, database_url, tmp_path):
    path = tmp_path / "daily.csv"
    path.write_text("id,text,created_at\n1,Nimbus Mobile,notadate\n")
    import_file(settings, path)
    time.sleep(0.01)
    path.write_text("id,text,created_at\n1,Nimbus Mobile,alsonotadate\n")
    os.utime(path, (time.time() + 5, time.time() + 5))
    import_file(settings, path)
    assert list_quarantined(settings, origin="daily.csv")[0] == 2


def test_a_huge_bad_line_is_kept_with_a_note_and_surrogates_stay_escaped(settings, database_url, tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_text('{"id": "big", "text": "' + "x" * 5_100_000 + '\n'
                    + '{"id": "s1", "text": "nimbus mobile \\ud800", "created_at": "2024-05-01"}\n')
    import_file(settings, path)
    _, records = list_quarantined(settings)
    assert any("kept up to 5,000,000" in r.reason for r in records)
    output = tmp_path / "fix.jsonl"
    export_quarantined(settings, output)
    assert "\\ud800" in output.read_text(encoding="utf-8")  # valid UTF-8, as the file had it
    result = CliRunner().invoke(app, ["quarantine", "list"])
    assert result.exit_code == 0 and "Traceback" not in result.output and "\\ud800" in result.output


def test_paths_that_cannot_be_read_or_written_get_one_message(settings, database_url, tmp_path):
    loop = tmp_path / "loop.csv"
    loop.symlink_to(tmp_path / "loop2.csv")
    (tmp_path / "loop2.csv").symlink_to(loop)
    with pytest.raises(ImportFormatError, match="loop.csv"):
        import_file(settings, loop)
    (tmp_path / "a.jsonl").write_text('{"id": "x", "text": ""}\n')
    import_file(settings, tmp_path / "a.jsonl")
    for target in (tmp_path / "missing" / "x.jsonl", tmp_path / "a.jsonl" / "x.jsonl"):
        with pytest.raises(BrandpulseError, match="cannot write"):
            export_quarantined(settings, target, forget=True)
    assert list_quarantined(settings)[0] == 1  # nothing forgotten when nothing was written
