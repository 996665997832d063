"""Turn pydantic validation errors into messages that name the key, the value and the fix."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from brandpulse.errors import ConfigError

SECRET_WORDS = ("token", "password", "secret", "api_key", "apikey", "webhook", "bearer")


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _value_at(raw: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        try:
            raw = raw[part]
        except (KeyError, IndexError, TypeError):
            return None
    return raw


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Follow field annotations down ``loc`` to the model that owns the last key."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = field.annotation
        args = getattr(current, "__args__", ())
        for arg in args:  # list[Model], Model | None
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                current = arg
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def describe_validation_error(exc: ValidationError, raw: dict, path: Path,
                              root: type[BaseModel]) -> str:
    """One line per problem: ``key: value — problem; fix``."""
    lines = [f"{path} has {exc.error_count()} problem(s):"]
    for error in exc.errors():
        loc = tuple(error["loc"])
        key = _dotted(loc) or "(top level)"
        if error["type"] == "extra_forbidden":
            owner = _model_at(root, loc[:-1])
            allowed = sorted(owner.model_fields) if owner else []
            guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean {guess[0]!r}? " if guess else ""
            lines.append(f"  - {key}: unknown key; {hint}allowed keys here: {', '.join(allowed)}")
            continue
        value = _value_at(raw, loc)
        message = error["msg"].removeprefix("Value error, ")
        shown = "(missing)" if error["type"] == "missing" else repr(value)
        fix = "add it" if error["type"] == "missing" else "change the value"
        lines.append(f"  - {key}: value {shown} is invalid: {message}; {fix} in {path}")
    return "\n".join(lines)


def reject_secret_keys(raw: Any, path: Path, prefix: str = "") -> None:
    """Refuse secret-looking keys in config.yaml: secrets belong in the environment."""
    if isinstance(raw, dict):
        for key, value in raw.items():
            dotted = f"{prefix}.{key}" if prefix else str(key)
            if any(word in str(key).lower() for word in SECRET_WORDS):
                env = "BRANDPULSE_" + str(key).upper()
                raise ConfigError(
                    f"{path}: {dotted} looks like a secret; secrets are never read from config.yaml. "
                    f"Remove it and set the environment variable {env} (or put it in .env)")
            reject_secret_keys(value, path, dotted)
    elif isinstance(raw, list):
        for index, item in enumerate(raw):
            reject_secret_keys(item, path, f"{prefix}[{index}]")
