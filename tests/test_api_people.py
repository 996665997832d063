"""Data rights over real HTTP: an admin exports and forgets a person; nobody else may (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from brandpulse.core.errors import BrandpulseError
from brandpulse.services.accounts import change_user, create_user, list_users
from brandpulse.services.tokens import create_token
from tests.api_client import api_server, client, token_for  # noqa: F401
from tests.test_care import post

DANA = ["Nimbus Mobile charged me twice, I want a refund now", "Nimbus Mobile support was great, thanks!"]
OTHER = "Nimbus Mobile roaming works fine for me"


@pytest.fixture
def held(settings, database_url, api_server):
    """Two posts of @dana on x, one of @omar, and an admin token with both people scopes."""
    for n, text in enumerate(DANA):
        post(database_url, f"d{n}", text, handle="dana", minutes_ago=100 + n)
    post(database_url, "o1", OTHER, handle="omar")
    token = token_for(settings, "root", "admin", ["people:export", "people:forget", "mentions:read"])
    return api_server(settings), token


def test_admin_exports_then_forgets_and_the_person_is_gone(held):
    base, token = held
    with client(base, token) as http:
        exported = http.get("/people/export", params={"network": "x", "handle": "@Dana"})
        assert exported.status_code == 200, exported.text
        body = exported.json()
        assert body["exported_by"] == "root" and body["person"]["author_ids"]
        assert all(text in exported.text for text in DANA) and OTHER not in exported.text
        assert body["counts"]["mentions"] == 2

        forgotten = http.post("/people/forget", json={"network": "x", "handle": "dana"})
        assert forgotten.status_code == 200, forgotten.text
        assert forgotten.json()["erasure_id"] >= 1 and forgotten.json()["counts"]["mentions"] == 2

        listed = http.get("/mentions", params={"brand": "Nimbus Mobile", "limit": 100}).json()["items"]
        assert len(listed) == 3  # the posts still count
        assert not any(text in str(listed) for text in DANA) and "dana" not in str(listed).lower()
        again = http.get("/people/export", params={"network": "x", "handle": "dana"})
        assert again.status_code == 404

        vague = http.get("/people/export", params={"handle": "dana"})
        assert vague.status_code == 422 and "name one person" in vague.json()["detail"]
        both = http.post("/people/forget", json={"network": "x", "handle": "omar", "customer_id": 3})
        assert both.status_code == 422


def test_only_admins_hold_people_scopes_and_a_demoted_admin_loses_them(held, settings):
    base, token = held
    mia = create_user(settings, None, "mia", "secret-pass-1", "care_lead", "care")
    with pytest.raises(BrandpulseError, match="people:export"):
        create_token(settings, None, name="mia-token", scopes=["people:export"], user_id=mia.id)
    create_user(settings, None, "ada", "secret-pass-1", "admin", None)  # root is not the last admin
    root_id = next(u["id"] for u in list_users(settings, None) if u["username"] == "root")
    with client(base, token) as http:
        change_user(settings, None, root_id, role="marketing")
        refused = http.post("/people/forget", json={"network": "x", "handle": "dana"})
        assert refused.status_code == 403 and "marketing" in refused.json()["detail"]
        assert http.get("/people/export", params={"network": "x", "handle": "dana"}).status_code == 403
