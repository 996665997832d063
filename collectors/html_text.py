"""Plain text from the small HTML fragments networks send (Mastodon status content)."""

from __future__ import annotations

from html.parser import HTMLParser

BREAKS = {"br", "p", "div", "li"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag) -> None:
        if tag in BREAKS - {"br"}:
            self.parts.append("\n")

    def handle_data(self, data) -> None:
        self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Tags dropped, entities decoded, paragraphs kept as line breaks."""
    parser = _Text()
    parser.feed(fragment or "")
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return "\n".join(line for line in lines if line)
