"""The boolean query language each brand is tracked with, and its local matcher.

Grammar (case-insensitive operators)::

    query  := or
    or     := and ("OR" and)*
    and    := unary (["AND"] unary)*          -- juxtaposition means AND
    unary  := "NOT" unary | "-" unary | near
    near   := atom ("NEAR/" N atom)*
    atom   := "(" query ")" | '"quoted phrase"' | word | word* | @handle | #tag

A plain word matches the token with or without a leading ``@`` or ``#``; a
``@handle`` or ``#tag`` matches only that form; ``word*`` matches a prefix.
Every stored mention is re-checked with :func:`Query.matches` on its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from brandpulse.core.errors import QueryError

_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|"(?P<phrase>[^"]*)"|(?P<near>NEAR/\d+)'
                    r'|(?P<neg>-)(?=\S)|(?P<word>[^\s()"]+))', re.IGNORECASE)
_TEXT_TOKEN = re.compile(r"[@#]?[\w][\w'’.-]*\w|[@#]?\w", re.UNICODE)


def tokenize_text(text: str) -> list[str]:
    """Lower-cased word tokens of a post, keeping ``@`` and ``#`` prefixes."""
    return [t.lower().replace("’", "'") for t in _TEXT_TOKEN.findall(text)]


def _term_matches(pattern: str, token: str) -> bool:
    if pattern[0] not in "@#":
        token = token.lstrip("@#")
    if pattern.endswith("*"):
        return token.startswith(pattern[:-1])
    return token == pattern


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]

    def positions(self, tokens: list[str]) -> list[int]:
        n = len(self.words)
        return [i for i in range(len(tokens) - n + 1)
                if all(_term_matches(w, tokens[i + k]) for k, w in enumerate(self.words))]

    def matches(self, tokens: list[str]) -> bool:
        return bool(self.positions(tokens))


@dataclass(frozen=True)
class Near:
    left: Term
    right: Term
    distance: int

    def matches(self, tokens: list[str]) -> bool:
        rights = self.right.positions(tokens)
        return any(abs(i - j) <= self.distance for i in self.left.positions(tokens) for j in rights)


@dataclass(frozen=True)
class Not:
    operand: object

    def matches(self, tokens: list[str]) -> bool:
        return not self.operand.matches(tokens)


@dataclass(frozen=True)
class And:
    operands: tuple

    def matches(self, tokens: list[str]) -> bool:
        return all(op.matches(tokens) for op in self.operands)


@dataclass(frozen=True)
class Or:
    operands: tuple

    def matches(self, tokens: list[str]) -> bool:
        return any(op.matches(tokens) for op in self.operands)


@dataclass(frozen=True)
class Query:
    source: str
    root: object

    def matches(self, text: str) -> bool:
        """True when ``text`` satisfies the query."""
        return self.root.matches(tokenize_text(text or ""))


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(source):
            m = _TOKEN.match(source, pos)
            if not m or m.end() == pos:
                if source[pos:].strip() == "":
                    break
                self.fail(f"unexpected character {source[pos]!r} at position {pos}")
            pos = m.end()
            kind = m.lastgroup
            value = m.group(kind)
            if kind == "word" and value.upper() in ("AND", "OR", "NOT"):
                kind = value.upper()
            self.tokens.append((kind, value))
        self.i = 0

    def fail(self, why: str) -> None:
        raise QueryError(f"query {self.source!r}: {why}; write e.g. "
                         '"acme" OR @acme NOT "acme corp" (see README, Queries)')

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self):
        if not self.tokens:
            self.fail("it is empty")
        node = self.parse_or()
        if self.peek() is not None:
            self.fail(f"unexpected {self.tokens[self.i][1]!r}")
        return node

    def parse_or(self):
        operands = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self):
        operands = [self.parse_unary()]
        while self.peek() not in (None, "OR", "rp"):
            if self.peek() == "AND":
                self.take()
            operands.append(self.parse_unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_unary(self):
        if self.peek() in ("NOT", "neg"):
            self.take()
            return Not(self.parse_unary())
        return self.parse_near()

    def parse_near(self):
        node = self.parse_atom()
        while self.peek() == "near":
            distance = int(self.take()[1].split("/")[1])
            right = self.parse_atom()
            if not (isinstance(node, Term) and isinstance(right, Term)):
                self.fail("NEAR/n joins two words or phrases, not groups")
            node = Near(node, right, distance)
        return node

    def parse_atom(self):
        kind = self.peek()
        if kind is None:
            self.fail("it ends where a word was expected")
        kind, value = self.take()
        if kind == "lp":
            node = self.parse_or()
            if self.peek() != "rp":
                self.fail("a '(' is never closed")
            self.take()
            return node
        if kind == "phrase":
            words = tuple(tokenize_text(value))
            if not words:
                self.fail("it holds an empty phrase \"\"")
            return Term(words)
        if kind == "word":
            words = tuple(tokenize_text(value.rstrip("*")))
            if not words:
                self.fail(f"{value!r} is not a searchable word")
            if value.endswith("*"):
                words = words[:-1] + (words[-1] + "*",)
            return Term(words)
        self.fail(f"unexpected {value!r}")


@lru_cache(maxsize=256)
def parse_query(source: str) -> Query:
    """Parse a brand query; raise QueryError saying where and how to fix it."""
    return Query(source, _Parser(source).parse())


def _term_text(term: Term) -> str:
    words = [w.rstrip("*") for w in term.words]
    return f'"{" ".join(words)}"' if len(words) > 1 else words[0]


def to_native(query: Query, dialect: str) -> str:
    """The query in a network's own syntax: ``x`` (X API v2) or ``reddit`` (Lucene-style).

    NEAR/n becomes AND and ``word*`` its stem: the network returns a superset and the
    local re-check keeps only true matches.
    """
    negate = "-" if dialect == "x" else "NOT "
    joiner = " " if dialect == "x" else " AND "

    def render(node, top: bool = False) -> str:
        if isinstance(node, Term):
            return _term_text(node)
        if isinstance(node, Near):
            return render(And((node.left, node.right)), top)
        if isinstance(node, Not):
            if isinstance(node.operand, Term):
                return f"{negate}{render(node.operand)}"
            return f"{negate}({render(node.operand, top=True)})"
        parts = [render(op) for op in node.operands]
        text = (" OR " if isinstance(node, Or) else joiner).join(parts)
        return text if top else f"({text})"

    return render(query.root, top=True)


def positive_keywords(query: Query) -> list[str]:
    """Words and phrases a matching post must contain one of (for keyword-only filters)."""
    found: list[str] = []

    def walk(node, negated: bool) -> None:
        if isinstance(node, Term):
            if not negated:
                found.append(" ".join(w.rstrip("*").lstrip("@#") for w in node.words))
        elif isinstance(node, Near):
            walk(node.left, negated)
            walk(node.right, negated)
        elif isinstance(node, Not):
            walk(node.operand, not negated)
        else:
            for op in node.operands:
                walk(op, negated)

    walk(query.root, False)
    return list(dict.fromkeys(found))
