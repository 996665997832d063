"""Keep secrets out of every message, log line and error brandpulse prints.

:func:`redact_secrets` is the one place that knows what a secret looks like in text:
passwords in URLs (``scheme://user:pass@``), secret query or form parameters
(``?access_token=``, ``password=``), ``Authorization`` and similar headers, ``Bearer``
tokens, secret fields in dict or JSON text, and every literal value brandpulse read as a
secret (environment tokens, alert channel URLs; see :func:`remember_secret`).

:func:`install_log_redaction` puts :class:`RedactingFilter` on the root logger's handlers
(and on Python's last-resort handler), so library DEBUG logs that print request headers
(tweepy, requests-oauthlib, apprise ...) never show a token.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import threading
from urllib.parse import unquote, urlsplit

MASK = "***"
SECRET_NAME = (r"[\w.-]*?(?:token|secret|passw(?:or)?d|pwd|api[_-]?key|apikey|auth|signature|"
               r"consumer[_-]?key|credential|session[_-]?id|jwt)[\w.-]*|key|sig|pass|code_verifier")
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'\"<>]*):(?P<pw>[^\s/'\"<>]*)@")
_URL_USERINFO = re.compile(r"(?P<head>\b(?:https?|wss?|ftp)://)(?P<user>[^\s:/@'\"<>]+)@", re.I)
_PARAM = re.compile(rf"(?P<name>(?<![\w-])(?:{SECRET_NAME}))(?P<eq>\s*=\s*)"
                    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s&;'\",)}\]]+)", re.I)
_HEADER = re.compile(r"(?P<name>(?:proxy-)?authorization|\bx-api-key|\bapi-key|\bx-auth-token|"
                     r"\bset-cookie|\bcookie)(?P<sep>['\"]?\s*[:=]\s*(?:b?['\"])?)(?P<value>[^'\"\r\n]+)",
                     re.I)
_FIELD = re.compile(rf"(?P<q>['\"])(?P<name>{SECRET_NAME})(?P=q)(?P<sep>\s*:\s*)"
                    r"(?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|b'(?:[^'\\]|\\.)*')", re.I)
_SCHEME_TOKEN = re.compile(r"\b(?P<name>Bearer|Basic|Digest|OAuth|Token)(?P<sp>\s+)(?P<value>"
                           r"[A-Za-z0-9._~+/=%-]{8,}(?:,\s*[\w-]+=\"[^\"]*\")*)")

_known: set[str] = set()
_known_lock = threading.Lock()
_known_pattern: re.Pattern | None = None


def remember_secret(value: str | None) -> None:
    """Add a value read as a secret; it is masked wherever it appears from now on."""
    global _known_pattern
    if not value or len(value) < 6:
        return
    parts = {value, value.strip(), repr(value)[1:-1]} | set(_url_parts(value))
    parts = {p for p in parts if len(p) >= 6}
    with _known_lock:
        if parts <= _known:
            return
        _known.update(parts)
        ordered = sorted(_known, key=len, reverse=True)
        _known_pattern = re.compile("|".join(re.escape(p) for p in ordered))


def forget_secrets() -> None:
    """Forget every remembered value (for a fresh start, e.g. between tests)."""
    global _known_pattern
    with _known_lock:
        _known.clear()
        _known_pattern = None


def remember_url_password(url: str | None) -> None:
    """Remember only the password of a URL (a database URL's host and name stay readable)."""
    try:
        parts = urlsplit((url or "").strip())
        password = parts.password
    except ValueError:
        return
    if password:
        remember_secret(password)
        remember_secret(unquote(password))


def _url_parts(value: str) -> list[str]:
    """The pieces of a secret URL worth masking alone: userinfo, path tokens, query values."""
    if "://" not in value:
        return []
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return []
    pieces = [parts.password or "", parts.username or "", parts.fragment]
    pieces += [seg for seg in parts.path.split("/")]
    pieces += [kv.split("=", 1)[-1] for kv in parts.query.split("&")]
    pieces += [unquote(p) for p in pieces]
    return [p for p in pieces if len(p) >= 20 or (len(p) >= 8 and any(c.isdigit() for c in p))]


def redact_secrets(text: object) -> str:
    """``text`` with every credential it carries replaced by ``***``."""
    text = str(text)
    pattern = _known_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@", text)
    text = _URL_USERINFO.sub(lambda m: f"{m['head']}{MASK}@", text)
    text = _HEADER.sub(lambda m: f"{m['name']}{m['sep']}{MASK}", text)
    text = _FIELD.sub(lambda m: f"{m['q']}{m['name']}{m['q']}{m['sep']}{_quoted(m['value'])}", text)
    text = _PARAM.sub(lambda m: f"{m['name']}{m['eq']}{MASK}", text)
    return _SCHEME_TOKEN.sub(lambda m: f"{m['name']}{m['sp']}{MASK}", text)


def _quoted(value: str) -> str:
    quote = value[1] if value.startswith("b") else value[0]
    return f"{quote}{MASK}{quote}"


def url_credentials(url: str) -> str | None:
    """What credential a URL carries (``a password``, ``an access_token parameter`` ...), or None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    if parts.password:
        return "a password (user:password@)"
    if parts.username and parts.scheme.lower() in {"http", "https", "ws", "wss", "ftp"}:
        return "a user name or token before @"
    for pair in re.split(r"[&;]", parts.query) + re.split(r"[&;]", parts.fragment):
        name = pair.split("=", 1)[0]
        if "=" in pair and re.fullmatch(SECRET_NAME, name, re.I):
            return f"the secret parameter {name}="
    return None


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message, arguments and traceback before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the logging module's to report
            return True
        record.msg, record.args = redact_secrets(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_secrets(record.stack_info)
        return True


_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Put the redacting filter on every root handler and the last-resort handler (idempotent)."""
    handlers = list(logging.getLogger().handlers)
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    http.client.HTTPConnection.debuglevel = 0  # it print()s raw headers, past any log filter


def configure_logging(level: str | None = None) -> int:
    """Log to stderr at ``level`` (default ``BRANDPULSE_LOG_LEVEL`` or INFO) with secrets masked."""
    from brandpulse.core.errors import ConfigError

    name = (level or os.environ.get("BRANDPULSE_LOG_LEVEL") or "INFO").strip().upper()
    number = logging.getLevelName(name)
    if not isinstance(number, int):
        raise ConfigError(f"log level {name!r} (BRANDPULSE_LOG_LEVEL) is not a level; "
                          "use DEBUG, INFO, WARNING or ERROR")
    logging.basicConfig(level=number, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger().setLevel(number)
    install_log_redaction()
    return number


install_log_redaction()  # even before logging is configured, warnings reach stderr masked
