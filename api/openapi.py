"""The committed OpenAPI document (docs/openapi.json): write it with `python -m api.openapi`.

A test regenerates it and fails when the committed copy is stale, so the published contract is
always the one the server serves at /openapi.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from api.app import create_app
from brandpulse.core.settings import Settings

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def openapi_text() -> str:
    """The OpenAPI document the server serves, as stable, diff-friendly JSON."""
    return json.dumps(create_app(Settings()).openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(openapi_text(), encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
