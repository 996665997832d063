"""Turn pydantic validation errors into messages that name the key, the value and the fix."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from brandpulse.core.redaction import redact_secrets

MAX_SHOWN = 120  # characters of a bad value quoted back in a message
MAX_PROBLEMS = 20  # listed in one message; the rest are counted


def dotted_key(loc: tuple[Any, ...]) -> str:
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


def model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
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


def _line_of(lines: dict[tuple[Any, ...], int] | None, loc: tuple[Any, ...]) -> str:
    """`` (line N)`` for the deepest part of ``loc`` the file has a line for."""
    for end in range(len(loc), -1, -1):
        if lines and loc[:end] in lines:
            return f" (line {lines[loc[:end]]})"
    return ""


def _shown(value: Any) -> str:
    text = redact_secrets(repr(value))
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + f"... ({len(text):,} characters)"


def describe_validation_error(exc: ValidationError, raw: dict, path: Path, root: type[BaseModel],
                              lines: dict[tuple[Any, ...], int] | None = None,
                              origins: dict[tuple[Any, ...], str] | None = None) -> str:
    """One line per problem: ``key (line N): value — problem; fix`` (one line in all for one); a
    check across sections (the top level) gives its own message, which names the keys and the fix.

    ``origins`` names the environment variable a value came from instead of the file.
    """
    problems: list[str] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        key = dotted_key(loc) or "(top level)"
        where = _line_of(lines, loc)
        if error["type"] == "extra_forbidden":
            owner = model_at(root, loc[:-1])
            allowed = sorted(owner.model_fields) if owner else []
            guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean {guess[0]!r}? " if guess else ""
            problems.append(f"{_shown_key(key)}{where}: unknown key; {hint}"
                             f"allowed keys here: {', '.join(allowed)}")
            continue
        message = redact_secrets(error["msg"].removeprefix("Value error, "))[:300]
        if not loc and error["type"] == "value_error":  # a check across sections: its message names
            # the keys and the fix; the whole file is not quoted back
            problems.append(message)
            continue
        value = _value_at(raw, loc)
        shown = "(missing)" if error["type"] == "missing" else _shown(value)
        source = next((env for prefix, env in (origins or {}).items() if loc[:len(prefix)] == prefix), None)
        fix = ("add it" if error["type"] == "missing" else "change the value") + (
            f" of the environment variable {source}" if source else f" in {path}")
        problems.append(f"{_shown_key(key)}{where if not source else ''}: value {shown} is invalid: "
                         f"{message}; {fix}")
    if len(problems) == 1:
        return f"{path}: {problems[0]}"
    more = [f"... and {len(problems) - MAX_PROBLEMS} more"] if len(problems) > MAX_PROBLEMS else []
    return "\n  - ".join([f"{path} has {len(problems)} problems:"] + problems[:MAX_PROBLEMS] + more)


def _shown_key(key: str) -> str:
    key = redact_secrets(key)
    return key if len(key) <= MAX_SHOWN else key[:MAX_SHOWN] + "..."
