"""Refuse secrets written into config.yaml, naming the environment variable that holds each one.

Two kinds are refused: a secret-looking key (``sources.x.bearer_token``, ``database.password``,
``sources.reddit.client_id`` ...) and a URL value that carries a credential
(``postgresql://user:PASSWORD@host``, ``https://host/?access_token=...``), RSS feeds included:
a feed URL is stored with the mentions it brings, so one with a key in it is not supported.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from brandpulse.core.config_errors import dotted_key, model_at
from brandpulse.core.errors import ConfigError
from brandpulse.core.redaction import url_credentials

SECRET_WORDS = ("token", "password", "passwd", "secret", "api_key", "apikey", "webhook", "bearer",
                "credential", "private_key", "access_key")
SECRET_KEYS_AT = {  # keys that are secrets only in one section
    ("sources", "reddit"): {"client_id", "user_agent", "username", "user"},
    ("sources", "bluesky"): {"handle", "identifier", "username", "user", "login"},
    ("sources", "mastodon"): {"client_id"},
    ("database",): {"user", "username"},
}
NOT_SECRETS = {((), "webhooks"), (("api",), "token_days")}  # settings whose names only sound secret
URL = re.compile(r"^\s*[a-zA-Z][a-zA-Z0-9+.-]*://")
ENV_SECRETS = ("BRANDPULSE_X_BEARER_TOKEN, BRANDPULSE_REDDIT_CLIENT_ID, BRANDPULSE_REDDIT_CLIENT_SECRET, "
               "BRANDPULSE_REDDIT_USER_AGENT, BRANDPULSE_MASTODON_TOKEN, BRANDPULSE_BLUESKY_HANDLE, "
               "BRANDPULSE_BLUESKY_APP_PASSWORD, BRANDPULSE_DATABASE_URL and each alert channel's url_env")


def secret_fix(loc: tuple[Any, ...]) -> str:
    """The sentence saying where the secret at ``loc`` belongs: the variable that holds it."""
    parts = [str(p) for p in loc if not isinstance(p, int)]
    key = parts[-1].lower() if parts else ""
    section = tuple(parts[:2])
    env = " in the environment or .env"
    if section == ("sources", "x"):
        return f"Set BRANDPULSE_X_BEARER_TOKEN to the X app's bearer token{env}."
    if section == ("sources", "reddit"):
        if "agent" in key:
            return f"Set BRANDPULSE_REDDIT_USER_AGENT{env}."
        if "id" in key.split("_"):
            return f"Set BRANDPULSE_REDDIT_CLIENT_ID{env}."
        if "secret" in key:
            return f"Set BRANDPULSE_REDDIT_CLIENT_SECRET{env}."
        return ("brandpulse reads Reddit as an app: set BRANDPULSE_REDDIT_CLIENT_ID, "
                f"BRANDPULSE_REDDIT_CLIENT_SECRET and BRANDPULSE_REDDIT_USER_AGENT{env}.")
    if section == ("sources", "mastodon"):
        return (f"Set BRANDPULSE_MASTODON_TOKEN to the access token{env}; "
                "the instance URL stays https://host.")
    if section == ("sources", "bluesky"):
        if any(word in key for word in ("password", "secret", "token")):
            return f"Set BRANDPULSE_BLUESKY_APP_PASSWORD to an app password{env}."
        if key in SECRET_KEYS_AT[("sources", "bluesky")]:
            return f"Set BRANDPULSE_BLUESKY_HANDLE{env}."
        return f"Set BRANDPULSE_BLUESKY_HANDLE and BRANDPULSE_BLUESKY_APP_PASSWORD{env}."
    if section == ("sources", "rss"):
        return ("brandpulse reads no RSS secret, and a feed whose URL carries a key or password is "
                "not supported (the URL is stored with every mention it brings); list public feeds only.")
    if section[:1] == ("database",):
        return ("Set BRANDPULSE_DATABASE_URL to the whole URL with its password "
                f"(postgresql+psycopg://user:PASSWORD@host/db){env}; config.yaml keeps it without one.")
    if section[:1] in {("alerts",), ("reports",)}:
        return ("Name an environment variable in the channel's url_env (e.g. url_env: "
                f"BRANDPULSE_ALERT_SLACK_URL) and put the apprise URL in that variable{env}.")
    return f"brandpulse reads no such secret; secrets come only from {ENV_SECRETS}."


def _is_secret_key(loc: tuple[Any, ...], key: Any) -> bool:
    name = str(key).lower()
    section = tuple(str(p) for p in loc if not isinstance(p, int))
    if (section, name) in NOT_SECRETS:
        return False
    if any(word in name for word in SECRET_WORDS):
        return True
    return name in SECRET_KEYS_AT.get(section, set())


def _user_keyed(root: type[BaseModel], loc: tuple[Any, ...]) -> bool:
    """True for mappings whose keys are the user's own names (canned_replies, aspects, handles)."""
    if not loc or isinstance(loc[-1], int):
        return False
    owner = model_at(root, loc[:-1]) if len(loc) > 1 else root
    return bool(owner and str(loc[-1]) in owner.model_fields and model_at(root, loc) is None)


def _check_value(value: str, loc: tuple[Any, ...], path: Path) -> None:
    dotted = dotted_key(loc)
    if loc and loc[-1] == "url_env" and "://" in value:
        raise ConfigError(f"{path}: {dotted} must NAME an environment variable (e.g. "
                          "BRANDPULSE_ALERT_SLACK_URL), not hold the URL; put the apprise URL in "
                          "that variable (environment or .env) and its name here")
    if not URL.match(value):
        return
    what = url_credentials(value)
    if what:
        raise ConfigError(f"{path}: {dotted} is a URL with {what}; credentials are never read from "
                          f"config.yaml. Remove it from the URL. {secret_fix(loc)}")


def refuse_secrets(raw: Any, path: Path, root: type[BaseModel]) -> None:
    """Raise ConfigError on the first secret key or credential-carrying URL in ``raw``."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(raw, ())]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, dict):
            check_keys = not _user_keyed(root, loc)
            for key, item in value.items():
                if check_keys and _is_secret_key(loc, key):
                    raise ConfigError(
                        f"{path}: {dotted_key(loc + (key,))} looks like a secret; secrets are never "
                        f"read from config.yaml. Remove it. {secret_fix(loc + (key,))}")
                stack.append((item, loc + (key,)))
        elif isinstance(value, list):
            stack.extend((item, loc + (i,)) for i, item in enumerate(value))
        elif isinstance(value, str):
            _check_value(value, loc, path)
