"""The file inbox with files a user really has: one bad file is set aside, the others are read."""

from __future__ import annotations

import gzip
import os
import json

from brandpulse.services.collecting import collect_all
from brandpulse.services.quarantining import list_quarantined

ROW = {"text": "Nimbus Mobile signal is gone again", "created_at": "2026-11-01T10:00:00Z", "user": "ann"}


def test_bad_files_are_set_aside_and_the_source_goes_on(write_config, database_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a_not_gzip.csv.gz").write_bytes(b"id,text,created_at\n1,Nimbus Mobile,2026-11-01\n")
    (inbox / "b_binary.csv").write_bytes(bytes(range(256)) * 64)
    body = "".join(json.dumps({**ROW, "id": f"cut{i}", "text": f"Nimbus Mobile {i} " + "x" * 300}) + "\n"
                   for i in range(2000)).encode()
    packed = gzip.compress(body)
    (inbox / "c_truncated.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    (inbox / "d_excel.csv").write_bytes(b"\xef\xbb\xbfid,text,created_at\r\n1,Nimbus Mobile ok,2026-11-01\r\n")
    settings = write_config(sources={"file": {"enabled": True, "inbox": str(inbox)}})

    (result,) = collect_all(settings, source="file", brand="Nimbus Mobile")

    assert result.pages == 4  # every file was read or set aside; none stopped the source
    errors = " ".join(result.errors)
    assert "a_not_gzip.csv.gz" in errors and "not gzip" in errors
    assert "b_binary.csv" in errors and "binary" in errors
    assert "c_truncated.jsonl.gz" in errors and "ends early" in errors
    assert 0 < result.stored < 2001
    _, records = list_quarantined(settings, origin="file", limit=20)
    set_aside = {r.location for r in records}
    assert {"a_not_gzip.csv.gz", "b_binary.csv", "c_truncated.jsonl.gz end of file"} <= set_aside

    (again,) = collect_all(settings, source="file", brand="Nimbus Mobile")  # set-aside files are not read again...
    assert (again.pages, again.stored) == (1, 0)
    (inbox / "a_not_gzip.csv.gz").write_bytes(gzip.compress(b"id,text,created_at\n9,Nimbus Mobile,2026-11-01\n"))
    (fixed,) = collect_all(settings, source="file", brand="Nimbus Mobile")  # ...until they change
    assert fixed.stored == 1


def test_a_cursor_that_is_not_ours_starts_the_inbox_afresh(write_config, database_url, tmp_path):
    from store.collectors import save_cursor
    from store.engine import session_scope

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.csv").write_bytes(b"id,text,created_at\n1,Nimbus Mobile,2026-11-01\n")
    settings = write_config(sources={"file": {"enabled": True, "inbox": str(inbox)}})
    with session_scope(database_url) as session:  # hand-edited or from another version
        save_cursor(session, "file", "Nimbus Mobile", "[not, json")
    (result,) = collect_all(settings, source="file", brand="Nimbus Mobile")
    assert (result.outcome, result.stored) == ("ok", 1)


def test_a_pipe_or_a_device_in_the_inbox_is_set_aside_without_blocking(write_config, database_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    os.mkfifo(inbox / "pipe.jsonl")
    (inbox / "zero.csv").symlink_to("/dev/zero")
    (inbox / "z_good.csv").write_bytes(b"id,text,created_at\n1,Nimbus Mobile,2026-11-01\n")
    settings = write_config(sources={"file": {"enabled": True, "inbox": str(inbox)}})
    (result,) = collect_all(settings, source="file", brand="Nimbus Mobile")
    assert result.stored == 1 and "pipe.jsonl" in " ".join(result.errors) and "zero.csv" in " ".join(result.errors)
