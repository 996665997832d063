"""The one way user- or post-controlled text may enter a Markdown-rendering Streamlit call.

Streamlit renders Markdown (links, images, HTML-ish directives, emphasis, colours, LaTeX) in
st.markdown/write/caption/header/subheader/title/error/warning/info/success/toast, in every
widget, expander and tab label, in radio options and in metric labels and values. Text that a
user or a post controls (handles, brand and topic names, user names, alert titles, notes, query
parameters, error messages that quote input) goes either to a plain-text element (st.text,
st.code, st.dataframe, selectbox options) or through :func:`md` first.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

WORD_JOINER = "\u2060"  # zero width: breaks bare-URL and e-mail autolinks without showing
_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_WWW = re.compile(r"(?i)(www)(?=\\\.)")


def md(value: Any) -> str:
    """``value`` as Markdown that shows exactly its characters and renders nothing.

    Every ASCII punctuation character is backslash-escaped (CommonMark allows it for all of
    them), so no link, image, HTML tag, entity, emphasis, code span, directive (``:red[...]``)
    or LaTeX (``$...$``) can start; a word joiner after ``:`` and ``@`` and inside ``www.``
    stops GitHub-style bare-URL and e-mail autolinks; line breaks and control characters
    become spaces, so a label stays one line and no block (heading, list, code) can begin.
    """
    text = _UNPRINTABLE.sub(" ", str(value)).strip()
    text = _PUNCTUATION.sub(r"\\\1", text)
    text = text.replace("\\:", "\\:" + WORD_JOINER).replace("\\@", "\\@" + WORD_JOINER)
    return _WWW.sub(r"\1" + WORD_JOINER, text)


def web_url(value: str | None) -> str | None:
    """``value`` if it is an http(s) URL with a host (safe for st.link_button), else None."""
    if not value:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname \
            or _UNPRINTABLE.search(value) or any(c.isspace() for c in value.strip()):
        return None
    return value.strip()
