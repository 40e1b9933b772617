"""Answers that depend on whether htmx asked (`request.htmx`, from htmx-flask).

Every htmx interaction is progressive enhancement: the same URL gives a plain request the
whole page and an htmx request the page's fragment, and after a post sends a plain form on
with a 303 and htmx with `HX-Redirect`. Every response varies on `HX-Request` (app/web/__init__).
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template
from flask.typing import ResponseReturnValue
from htmx_flask import request


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page. Restoring history after a cache
    miss is an htmx request too, but it replaces the whole page, so it gets the page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page_or_fragment(page_template: str, fragment_template: str, /, **context: Any) -> str:
    """The fragment's template for htmx, else the page's (which includes the fragment)."""
    return render_template(fragment_template if wants_fragment() else page_template, **context)


def full_page_redirect(target: str) -> ResponseReturnValue:
    """Send the browser to `target` as a whole page: a 303 for a plain form; for htmx (which
    would follow a redirect and swap the page into its target) `HX-Redirect`."""
    if request.htmx:
        return "", 204, {"HX-Redirect": target}
    return redirect(target, 303)
