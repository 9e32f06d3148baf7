"""HTML mail as plain text, with the standard library's HTML parser (no regular expressions over markup)."""

from html.parser import HTMLParser

# Elements whose content is never text a reader sees.
_HIDDEN = frozenset({"head", "script", "style", "title", "template", "noscript"})
# Elements that start and end on their own line.
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset", "figcaption", "figure",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
        "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.hidden = 0
        self.quote_depth = 0
        self.pre = 0
        self.links: list[str | None] = []

    def _break(self) -> None:
        if self.lines[-1].strip():
            self.lines.append("")

    def _write(self, text: str) -> None:
        if not self.lines[-1]:
            self.lines[-1] = "> " * self.quote_depth
        self.lines[-1] += text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.lines.append("")
        elif tag in _BLOCKS:
            self._break()
            if tag == "blockquote":
                self.quote_depth += 1
            elif tag == "pre":
                self.pre += 1
            elif tag == "li":
                self._write("- ")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
        elif tag in ("td", "th") and self.lines[-1].strip():
            self._write(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)
            self._break()
        elif tag == "a" and self.links:
            href = self.links.pop()
            # A link whose words are not its address keeps the address, so the agent can follow it.
            if href and href.startswith(("http://", "https://")) and href not in self.lines[-1]:
                self._write(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if self.pre:
            for index, part in enumerate(data.split("\n")):
                if index:
                    self.lines.append("")
                self._write(part)
            return
        text = " ".join(data.split())
        if not text:
            if data and self.lines[-1] and not self.lines[-1].endswith(" "):
                self._write(" ")
            return
        if data[:1].isspace() and self.lines[-1] and not self.lines[-1].endswith(" "):
            text = " " + text
        if data[-1:].isspace():
            text += " "
        self._write(text)


def html_to_text(html: str) -> str:
    """The text a reader of this HTML sees: blocks and ``<br>`` as line breaks, ``<blockquote>`` as ``>``
    lines (so quoted history is recognised like a plain-text reply's), scripts and styles dropped."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = [line.rstrip() for line in collector.lines]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
