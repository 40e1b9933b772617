"""HTTP caching of the public pages (home, listing and search, event page).

A visitor who is not signed in gets the same page as every other such visitor, so it may be
kept by a CDN or the browser: `Cache-Control: public` with an ETag of the body, and a
conditional request whose page has not changed is answered 304 with no body. The event page
shows how many tickets are left, so it is `no-cache` (every reuse asks first) and its ETag,
the hash of what it shows, changes with the counts: never stale. Listings show no
availability and may be reused for `PUBLIC_PAGE_MAX_AGE_SECONDS` without asking.

Nothing of anyone may land in a shared page. While a shared page renders, `g.shared_page` is
set: templates leave out the CSRF token (base.html) and forms that need one (visitors are
sent to log in first). A page that wrote to the session anyway (a CSRF token, a flash message
shown and removed) or a signed-in visitor's page (their name, their bell) is `private,
no-store`. `Vary: Cookie` keeps a cache from answering one visitor with another's page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import current_app, g, make_response, request, session
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.wrappers import Response

PRIVATE = "private, no-store"
P = ParamSpec("P")


def shared_when_anonymous(
    *, availability: bool = False
) -> Callable[[Callable[P, ResponseReturnValue]], Callable[P, Response]]:
    """Mark a public GET view's page as shared by visitors who are not signed in.
    `availability`: the page shows live counts, so it is never reused without asking."""

    def decorate(view: Callable[P, ResponseReturnValue]) -> Callable[P, Response]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
            shared = not current_user.is_authenticated
            g.shared_page = shared
            response = make_response(view(*args, **kwargs))
            response.vary.add("Cookie")
            if not shared:
                response.headers["Cache-Control"] = PRIVATE
            elif response.status_code == 200:
                if session.modified or "csrf_token" in g:
                    response.headers["Cache-Control"] = PRIVATE
                else:
                    response.headers["Cache-Control"] = _shared_policy(availability)
                    response.add_etag()
                    response.make_conditional(request)
            return response

        return wrapper

    return decorate


def _shared_policy(availability: bool) -> str:
    max_age = 0 if availability else int(current_app.config["PUBLIC_PAGE_MAX_AGE_SECONDS"])
    if max_age <= 0:
        return "public, no-cache"
    return f"public, max-age={max_age}, must-revalidate"
