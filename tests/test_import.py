"""Import of good and malformed rows: quarantined with row number and reason, idempotent."""

from pathlib import Path

import pytest
from sqlalchemy import select

from brandpulse.core.errors import ImportFormatError
from brandpulse.services.importer import import_file
from store.engine import session_scope
from store.models import Author, Brand, Mention, MentionBrand, Quarantine

FIXTURES = Path(__file__).parent / "fixtures"
AIRLINE_MAP = ["tweet_created=created_at", "airline=brand", "name=author_handle"]


def quarantined(url):
    with session_scope(url) as session:
        return {(q.location, q.reason) for q in session.execute(select(Quarantine)).scalars()}


def test_csv_import_quarantines_bad_rows_and_keeps_the_rest(settings, database_url):
    result = import_file(settings, FIXTURES / "airline_like.csv", "csv", network="x",
                         mappings=AIRLINE_MAP)
    assert (result.rows, result.inserted, result.quarantined) == (8, 4, 4)
    reasons = dict(quarantined(database_url))
    assert reasons["row 5"] == "text is missing or empty"
    assert "created_at 'not a date'" in reasons["row 6"]
    assert "reposts 'lots' is not a finite whole number" in reasons["row 7"]
    assert reasons["row 8"] == "1 more cell(s) than header columns"
    with session_scope(database_url) as session:
        first = session.execute(select(Mention).where(Mention.native_id == "9001")).scalar_one()
        assert first.text.startswith("@NimbusMobile my bill doubled & nobody")  # entities decoded
        assert first.created_at.isoformat() == "2015-02-24T19:35:52+00:00"
        assert first.reposts == 2 and first.network == "x"
        author = session.get(Author, first.author_id)
        assert author.handle == "kelly_r"
        brands = dict(session.execute(select(Brand.name, Brand.id)).all())
        assert "Vertex Telecom" in brands


def test_reimport_adds_nothing(settings, database_url):
    import_file(settings, FIXTURES / "airline_like.csv", "csv", mappings=AIRLINE_MAP)
    again = import_file(settings, FIXTURES / "airline_like.csv", "csv", mappings=AIRLINE_MAP)
    assert (again.inserted, again.existing, again.quarantined) == (0, 4, 4)
    assert len(quarantined(database_url)) == 4
    with session_scope(database_url) as session:
        assert len(session.execute(select(Mention.id)).all()) == 4


def test_jsonl_import_flattens_nested_fields_and_matches_brands_by_query(settings, database_url):
    progress = []
    result = import_file(settings, FIXTURES / "mentions.jsonl", progress=progress.append)
    assert (result.rows, result.inserted, result.quarantined) == (6, 3, 3)
    assert progress[-1] == 6
    reasons = dict(quarantined(database_url))
    assert reasons["row 3"].startswith("invalid JSON")
    assert reasons["row 5"] == "a JSON list, not an object"
    assert "network 'myspace'" in reasons["row 4"]
    with session_scope(database_url) as session:
        links = session.execute(select(Mention.native_id, Brand.name)
                                .join(MentionBrand, MentionBrand.mention_id == Mention.id)
                                .join(Brand, Brand.id == MentionBrand.brand_id)).all()
        assert sorted(links) == [("j1", "Nimbus Mobile"), ("j2", "Vertex Telecom"),
                                 ("j5", "Nimbus Mobile")]
        j1 = session.execute(select(Mention).where(Mention.native_id == "j1")).scalar_one()
        assert session.get(Author, j1.author_id).followers == 150000
        j5 = session.execute(select(Mention).where(Mention.native_id == "j5")).scalar_one()
        assert j5.reposted_id == "j1"


def test_rows_without_an_id_get_a_stable_one(settings, database_url, tmp_path):
    path = tmp_path / "noid.csv"
    path.write_text("text,date\nnimbus mobile rocks,2026-01-01\nnimbus mobile rocks,2026-01-02\n")
    assert import_file(settings, path).inserted == 2
    assert import_file(settings, path).inserted == 0


def test_unreadable_inputs_raise_clear_errors(settings, tmp_path):
    with pytest.raises(ImportFormatError, match="does not exist"):
        import_file(settings, tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ImportFormatError, match="no header"):
        import_file(settings, empty)
    with pytest.raises(ImportFormatError, match="--map"):
        import_file(settings, FIXTURES / "airline_like.csv", mappings=["tweet_created=when"])


def test_invalid_utf8_is_replaced_not_fatal(settings, database_url, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"id,text,created_at\n1,nimbus mobile \xff\xfe broken,2026-01-01\n")
    assert import_file(settings, path).inserted == 1


def test_rows_repeated_within_a_file_are_counted_not_lost(settings, database_url, tmp_path):
    path = tmp_path / "repeats.csv"
    path.write_text("id,text,created_at\n1,nimbus mobile a,2026-01-01\n1,nimbus mobile a,2026-01-01\n"
                    "2,nimbus mobile b,2026-01-01\n")
    result = import_file(settings, path)
    assert (result.rows, result.inserted, result.repeated) == (3, 2, 1)
