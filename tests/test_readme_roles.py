"""The README's role table says exactly which pages each role sees (brandpulse.services.access is the truth)."""

import re
from pathlib import Path

from brandpulse.services.access import ROLES, pages_for

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_role_table_lists_the_pages_each_role_really_sees():
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| Role | Pages | May also |"):].split("\n\n", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", table, re.MULTILINE))
    assert set(rows) == set(ROLES)
    for role in ROLES:
        assert [page.strip() for page in rows[role].split(",")] == pages_for(role), role
