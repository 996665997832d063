"""The boolean query language: a table of cases, and parse errors that say where."""

import pytest

from brandpulse.core.errors import QueryError
from brandpulse.core.query import parse_query

CASES = [
    ("acme", "I love Acme phones", True),
    ("acme", "acmeville is nice", False),
    ("acme", "thanks @acme!", True),
    ("acme", "#Acme rocks", True),
    ("@acme", "acme is fine", False),
    ("@acme", "hey @Acme", True),
    ("#acme", "#acme deals", True),
    ('"nimbus mobile"', "Nimbus Mobile is down", True),
    ('"nimbus mobile"', "mobile nimbus", False),
    ("nimbus AND mobile", "mobile and nimbus", True),
    ("nimbus mobile", "nimbus is mobile", True),
    ("nimbus mobile", "nimbus only", False),
    ("nimbus OR vertex", "vertex telecom", True),
    ("acme NOT refund", "acme refund please", False),
    ("acme -refund", "acme is great", True),
    ("acme -refund", "acme refund", False),
    ('acme NOT "acme corp"', "Acme Corp annual report", False),
    ('acme NOT "acme corp"', "acme phones", True),
    ("(acme OR globex) AND outage", "globex outage today", True),
    ("(acme OR globex) AND outage", "globex is fine", False),
    ("acme NEAR/2 broken", "acme screen broken", True),
    ("acme NEAR/2 broken", "acme is a very nice but broken", False),
    ('"battery life" NEAR/3 acme', "acme phone battery life", True),
    ("refund*", "still no refunds", True),
    ("refund*", "refinance", False),
    ("NOT spam", "hello", True),
    ("it's", "It’s broken", True),
]


@pytest.mark.parametrize("query,text,expected", CASES)
def test_query_matches(query, text, expected):
    assert parse_query(query).matches(text) is expected


@pytest.mark.parametrize("query", ["", "(acme", "acme)", "acme OR", "(a OR b) NEAR/2 c", '""', "AND"])
def test_invalid_queries_are_explained(query):
    with pytest.raises(QueryError, match="query"):
        parse_query(query)


NATIVE = [
    ('("nimbus mobile" OR nimbusmobile) NOT "nimbus cloud"',
     '("nimbus mobile" OR nimbusmobile) -"nimbus cloud"',
     '("nimbus mobile" OR nimbusmobile) AND NOT "nimbus cloud"'),
    ("acme -refund*", "acme -refund", "acme AND NOT refund"),
    ("acme NEAR/3 broken", "acme broken", "acme AND broken"),
    ("@acme OR #acme", "@acme OR #acme", "@acme OR #acme"),
    ("a (b OR NOT (c d))", "a (b OR -(c d))", "a AND (b OR NOT (c AND d))"),
]


@pytest.mark.parametrize("query,x,reddit", NATIVE)
def test_queries_compile_to_native_syntax(query, x, reddit):
    from brandpulse.core.query import to_native

    assert to_native(parse_query(query), "x") == x
    assert to_native(parse_query(query), "reddit") == reddit


def test_positive_keywords_skip_negated_terms():
    from brandpulse.core.query import positive_keywords

    assert positive_keywords(parse_query('("nimbus mobile" OR @nimbus) NOT outage')) == [
        "nimbus mobile", "nimbus"]
