"""Event descriptions: Markdown rendered to a safe HTML subset, or reduced to plain text."""

from __future__ import annotations

import re
from functools import lru_cache
from html import unescape

import bleach
import markdown as md
from bleach.linkifier import Linker

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "blockquote", "code", "pre"}
    | {"h2", "h3", "h4", "hr"}
)
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
# An author's "# Heading" must not compete with the page's own h1.
_HEADING_SHIFT = {f"<h{n}>": f"<h{min(n + 1, 4)}>" for n in range(1, 7)} | {
    f"</h{n}>": f"</h{min(n + 1, 4)}>" for n in range(1, 7)
}
_HEADING_TAG = re.compile(r"</?h[1-6]>")
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _external_link(attrs: dict, new: bool = False) -> dict:
    """Every link leaves with rel="nofollow noopener" (the author is not vouched for)."""
    attrs[(None, "rel")] = "nofollow noopener"
    return attrs


_linker = Linker(callbacks=[_external_link])


# Pure functions of the text: cached, since an event page needs the same description several
# times (body, meta description, JSON-LD) and popular pages are read far more than edited.
@lru_cache(maxsize=512)
def render_markdown(source: str | None) -> str:
    """Markdown to HTML restricted to a safe subset (raw HTML and scripts come out as text)."""
    if not source:
        return ""
    html = md.markdown(source, extensions=["fenced_code", "sane_lists"], output_format="html")
    html = _HEADING_TAG.sub(lambda m: _HEADING_SHIFT[m.group(0)], html)
    cleaned = bleach.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
    )
    return _linker.linkify(cleaned)


def plain_text(source: str | None, *, limit: int | None = None) -> str:
    """The words of a Markdown text on one line (for meta descriptions, JSON-LD, calendars)."""
    text = _words(source or "")
    if limit is not None and len(text) > limit:
        cut = text[:limit]
        text = (cut.rsplit(" ", 1)[0] if " " in cut else cut[: limit - 1]) + "…"
    return text


@lru_cache(maxsize=512)
def _words(source: str) -> str:
    if not source:
        return ""
    html = md.markdown(source, extensions=["fenced_code", "sane_lists"])
    return _SPACE.sub(" ", unescape(_TAG.sub(" ", html))).strip()
