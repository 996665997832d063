"""Import of values no column can hold and files a user really has: each bad row quarantined
with its reason and whole original text, every good row stored, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json

import pytest
from sqlalchemy import func, select

from brandpulse.core.errors import ImportFormatError
from brandpulse.services.importer import import_file
from brandpulse.services.quarantining import export_quarantined, list_quarantined
from store.engine import session_scope
from store.models import Brand, Mention

GOOD = {"text": "Nimbus Mobile works fine", "created_at": "2026-11-01T10:00:00Z", "author": "ann"}


def hostile_rows() -> list[tuple[str, str]]:
    """(JSON line, a word the quarantine reason must name) for every class that crashed before."""
    deep = '{"id": "deep", "text": "Nimbus Mobile", "created_at": "2026-11-01", "x": ' + "[" * 5000 + \
        "]" * 5000 + "}"
    nested = {"id": "nested", **GOOD, "x": json.loads("[" * 100 + "]" * 100)}

    def row(**fields) -> str:
        return json.dumps({**GOOD, **fields})

    return [
        (row(id="nul", text="Nimbus Mobile \x00 hidden"), "NUL"),
        (row(id="likes31", likes=2**31), "likes"),
        (row(id="likes63", likes=2**63 + 5), "likes"),
        (row(id="negative", likes=-3), "likes"),
        (row(id="followers-inf", author_followers="inf"), "author_followers"),
        ('{"id": "big", "text": "Nimbus Mobile", "created_at": "2026-11-01", "likes": 1e400}', "likes"),
        ('{"id": "nan", "text": "Nimbus Mobile", "created_at": "2026-11-01", "likes": NaN}', "NaN"),
        ('{"id": "inf", "text": "Nimbus Mobile", "created_at": "2026-11-01", "views": Infinity}', "Infinity"),
        (row(id="epoch20", created_at=12345678901234567890), "created_at"),
        (row(id="future", created_at="9999-12-31T00:00:00Z"), "created_at"),
        (row(id="past", created_at="0001-01-01T00:00:00Z"), "created_at"),
        (row(id="1900", created_at="1900-01-01"), "created_at"),
        (row(id="x" * 300), "native_id"),
        (row(id="handle", author="h" * 250), "handle"),
        (row(id="lang", lang="en-" + "x" * 30), "language"),
        (row(id="url", url="https://e.com/" + "p" * 2000), "url"),
        (row(id="surrogate", text="Nimbus Mobile \ud800"), "surrogate"),
        (deep, "deep"),
        (json.dumps(nested), "nested"),
        ('{"id": "digits", "text": "Nimbus Mobile", "created_at": "2026-11-01", "likes": ' + "9" * 5000 + "}",
         "digits"),
        (row(id="acme", brand="Acme Unknown"), "not in config.yaml"),
        ("[1, 2, 3]", "not an object"),
        ("{broken", "invalid JSON"),
    ]


def count(url: str, model) -> int:
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_every_value_no_column_can_hold_is_quarantined_per_row(settings, database_url, tmp_path):
    bad = hostile_rows()
    lines = []
    for index, (line, _) in enumerate(bad):
        lines.append(json.dumps({**GOOD, "id": f"good{index}", "brand": "nimbus MOBILE"}))
        lines.append(line)
    path = tmp_path / ("export-with-a-file-name-far-longer-than-the-source-column-" * 2 + ".jsonl")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")

    result = import_file(settings, path)

    assert (result.inserted, result.quarantined) == (len(bad), len(bad))
    total, records = list_quarantined(settings, limit=100)
    assert total == len(bad)
    by_row = {r.location: r for r in records}
    for index, (line, word) in enumerate(bad):
        quarantined = by_row[f"row {2 * index + 2}"]
        assert word.lower() in quarantined.reason.lower(), (word, quarantined.reason)
    assert count(database_url, Mention) == len(bad)
    with session_scope(database_url) as session:  # the case variant joined the configured brand
        assert session.execute(select(Brand.name)).scalars().all().count("Nimbus Mobile") == 1
        assert "Acme Unknown" not in session.execute(select(Brand.name)).scalars().all()


def test_quarantine_keeps_the_whole_original_row_and_exports_it(settings, database_url, tmp_path):
    text = "Nimbus Mobile \x00 " + "long " * 30_000
    original = json.dumps({**GOOD, "id": "keep", "text": text})
    path = tmp_path / "keep.jsonl"
    path.write_text(original + "\n", encoding="utf-8")
    import_file(settings, path)
    output = tmp_path / "fix.jsonl.gz"
    assert export_quarantined(settings, output, origin="keep.jsonl", forget=True) == 1
    with gzip.open(output, "rt", encoding="utf-8") as handle:
        assert handle.read() == original + "\n"
    assert list_quarantined(settings)[0] == 0


def test_excel_csv_with_byte_order_mark_imports_every_row(settings, database_url, tmp_path):
    path = tmp_path / "excel.csv"
    rows = "".join(f"{i},Nimbus Mobile row {i},2026-11-0{i % 9 + 1}\r\n" for i in range(20))
    path.write_bytes(b"\xef\xbb\xbf" + ("id,text,created_at\r\n" + rows).encode("utf-8"))
    result = import_file(settings, path)
    assert (result.inserted, result.quarantined) == (20, 0)


def test_invalid_utf8_is_replaced_and_said_never_silently(settings, database_url, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"id,text,created_at\n1,Nimbus Mobile caf\xe9 ok,2026-11-01\n2,Nimbus Mobile,2026-11-01\n")
    result = import_file(settings, path)
    assert result.inserted == 2
    assert any("latin1.csv" in w and "replaced" in w and "line" in w for w in result.warnings)


def test_a_nul_in_one_csv_cell_quarantines_that_row_only(settings, database_url, tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"id,text,created_at\n1,Nimbus Mobile \x00x,2026-11-01\n2,Nimbus Mobile,2026-11-01\n")
    result = import_file(settings, path)
    assert (result.inserted, result.quarantined) == (1, 1)
    assert "NUL" in result.first_quarantined[0][1] and result.first_quarantined[0][0] == "row 2"


def test_truncated_gzip_keeps_the_rows_before_and_says_where_it_ended(settings, database_url, tmp_path):
    body = "".join(json.dumps({**GOOD, "id": str(i), "text": f"Nimbus Mobile {i} " + "x" * 200}) + "\n"
                   for i in range(3000)).encode()
    packed = gzip.compress(body)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    result = import_file(settings, path)
    assert 0 < result.inserted < 3000
    assert any("ends early" in w and "cut.jsonl.gz" in w for w in result.warnings)
    assert ("end of file", result.warnings[0]) in result.first_quarantined


@pytest.mark.parametrize("name, content, words", [
    ("fake.csv.gz", b"id,text,created_at\n1,Nimbus Mobile,2026-11-01\n", ("not gzip", "fake.csv.gz")),
    ("photo.csv", bytes(range(256)) * 40, ("binary", "photo.csv")),
    ("book.csv", b"PK\x03\x04" + b"\x00" * 100, ("zip", "CSV UTF-8")),
    ("utf16.csv", "id,text\n".encode("utf-16"), ("UTF-16", "CSV UTF-8")),
])
def test_files_that_are_not_text_get_one_clear_error(settings, database_url, tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFormatError) as error:
        import_file(settings, path)
    assert all(word in str(error.value) for word in words), str(error.value)
    assert count(database_url, Mention) == 0


def test_unknown_brand_option_is_refused_before_reading(settings, database_url, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({**GOOD, "id": "1"}) + "\n")
    with pytest.raises(ImportFormatError, match="Acme.*not in config.yaml"):
        import_file(settings, path, brand="Acme")
    assert import_file(settings, path, brand="NIMBUS mobile").inserted == 1


def test_a_list_or_object_where_text_belongs_is_quarantined_with_its_field(settings, database_url, tmp_path):
    path = tmp_path / "shapes.jsonl"
    path.write_text("\n".join(json.dumps({**GOOD, "id": str(i), field: value})
                              for i, (field, value) in enumerate([("url", [""]), ("lang", ["en", "es"]),
                                                                   ("in_reply_to_id", None)])) + "\n")
    result = import_file(settings, path)
    assert (result.inserted, result.quarantined) == (1, 2)
    assert [reason.split(" is a ")[0] for _, reason in result.first_quarantined] == ["url", "language"]
