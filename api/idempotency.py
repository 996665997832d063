"""``Idempotency-Key`` on every POST: a retried request gets the first answer, never a second effect.

The key is kept per token (by the token's hash, so no extra lookup) with a fingerprint of the
method, path and body: the same key with a different request is refused (422), and one still
running answers 409. Answers of 5xx, 401, 403 and 429 are not kept, so a retry runs again.
The token is checked (and rate limited) before a key is looked at: a replay needs a valid token.
A claim left by a process that died mid-request is taken over after ``ABANDONED_AFTER``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response

from api.deps import identify
from brandpulse.services.accounts import token_digest
from api.problems import ApiProblem, problem
from brandpulse.core.errors import BrandpulseError
from store.engine import session_scope
from store.idempotency import begin_request, finish_request, forget_request, forget_requests_before
from store.models import utcnow

NOT_KEPT = {401, 403, 429}
MAX_KEY = 200
ABANDONED_AFTER = timedelta(minutes=2)  # a claim this old without an answer: its process died, run again


def _token_digest(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token_digest(token.strip())  # as the token is stored, so no lookup is needed


class IdempotencyMiddleware(BaseHTTPMiddleware):
    """Replays the stored answer of a POST retried with the same ``Idempotency-Key``."""

    async def dispatch(self, request: Request, call_next) -> Response:
        key = request.headers.get("idempotency-key")
        token = _token_digest(request)
        if request.method != "POST" or key is None or token is None:
            return await call_next(request)
        if not key or len(key) > MAX_KEY or not key.isprintable():
            return problem(request, 422, "invalid-request", f"Idempotency-Key must be 1 to {MAX_KEY} printable "
                           "characters (a UUID is usual)",
                           errors=[{"field": "header.Idempotency-Key", "message": "invalid"}])
        try:
            await run_in_threadpool(identify, request)
        except (BrandpulseError, ApiProblem):  # the route answers it (401, 429, 503) as without a key
            return await call_next(request)
        body = await request.body()
        fingerprint = hashlib.sha256(b"\n".join([request.method.encode(), request.url.path.encode(),
                                                 body])).hexdigest()
        settings = request.app.state.settings
        now = utcnow()
        with session_scope(settings.database.url) as session:
            forget_requests_before(session, now - timedelta(hours=settings.api.idempotency_hours))
            state, stored = begin_request(session, token, key, fingerprint, now, now - ABANDONED_AFTER)
        if state == "mismatch":
            return problem(request, 422, "idempotency-key-reused", f"Idempotency-Key {key[:60]!r} was used "
                           "for a different request; use a new key for a new request")
        if state == "running":
            return problem(request, 409, "idempotency-key-in-use", f"a request with Idempotency-Key {key[:60]!r} "
                           "is still running; wait for it and retry (a request cut off is run again after "
                           f"{ABANDONED_AFTER.seconds // 60} minutes)", {"Retry-After": "1"})
        if state == "done":
            return Response(json.dumps(stored["body"]).encode() if stored["body"] is not None else b"",
                            status_code=stored["status"], media_type=stored["media_type"],
                            headers={**stored.get("headers", {}), "Idempotent-Replayed": "true"})
        try:
            response = await call_next(request)
        except Exception:
            with session_scope(settings.database.url) as session:
                forget_request(session, token, key)
            raise
        chunks = [chunk async for chunk in response.body_iterator]
        content = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        keep = response.status_code < 500 and response.status_code not in NOT_KEPT
        with session_scope(settings.database.url) as session:
            if keep:
                media = response.headers.get("content-type", "application/json")
                headers = {k: v for k, v in response.headers.items() if k.lower() in ("location", "etag")}
                finish_request(session, token, key, {"status": response.status_code, "media_type": media,
                                                     "headers": headers,
                                                     "body": json.loads(content) if content else None})
            else:
                forget_request(session, token, key)
        return Response(content, status_code=response.status_code, headers=dict(response.headers),
                        media_type=response.media_type)
