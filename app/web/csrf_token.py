"""The CSRF token of a page, read the way a client that posts its forms reads it.

Templates put the token in each form's hidden `csrf_token` field and in the `csrf-token` meta
tag that htmx requests send (templates/base.html); this is the inverse, kept beside the app
whose markup it reads. The tests and the benchmarks both post forms with it.
"""

from __future__ import annotations

import re

_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form (or the meta tag) in a page."""
    match = _FIELD.search(html) or _META.search(html)
    if match is None:
        raise ValueError("no CSRF token in page")
    return match.group(1)
