"""The published OpenAPI document is the one the server serves, and /docs shows it."""

from __future__ import annotations

import json

from api.openapi import DOCUMENT, openapi_text
from tests.api_client import api_server  # noqa: F401

import httpx


def test_the_committed_openapi_document_is_current():
    assert DOCUMENT.exists(), "docs/openapi.json is missing: run `python -m api.openapi`"
    assert DOCUMENT.read_text(encoding="utf-8") == openapi_text(), \
        "docs/openapi.json is stale: run `python -m api.openapi` and commit it"


def test_the_server_serves_openapi_3_1_and_the_docs_page(settings, api_server):
    base = api_server(settings)
    served = httpx.get(base + "/openapi.json", timeout=30).json()
    assert served["openapi"].startswith("3.1") and "/v1/mentions" in served["paths"]
    assert served == json.loads(openapi_text())
    page = httpx.get(base + "/docs", timeout=30)
    assert page.status_code == 200 and "/static/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text  # nothing fetched from the internet
    script = httpx.get(base + "/static/swagger-ui/swagger-ui-bundle.js", timeout=30)
    assert script.status_code == 200 and len(script.content) > 500_000
