"""Error pages: a clear message, the right status, a fragment for htmx requests."""

from __future__ import annotations

from flask import Flask, Response
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from app.domain.base import DomainError
from app.web.api.problems import domain_problem, http_problem, is_api_request
from app.web.error_status import http_status
from app.web.htmx import render_page_or_fragment

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "We could not find that page.",
    405: "That action is not allowed here.",
    409: "Someone else changed this at the same moment. Please try again.",
    413: "That upload or form is too large.",
    422: "Some of what you sent needs fixing.",
    429: "Too many attempts. Please wait and try again.",
    500: "Something went wrong on our side. Please try again.",
}
UNSTORABLE_TEXT = (
    "Your request contained a character we cannot store (a NUL). Remove it and try again."
)


def render_error(status: int, message: str | None = None) -> tuple[str, int]:
    text = message or MESSAGES.get(status, "Something went wrong.")
    page = render_page_or_fragment(
        "errors/error.html", "errors/_error.html", status=status, message=text
    )
    return page, status


def render_refusal(error: DomainError) -> tuple[str, int]:
    """The error page for a domain error, with its message and the status it maps to."""
    return render_error(http_status(error), error.message)


def register(app: Flask) -> None:
    """Pages for people; problem details (app/web/api/problems.py) for errors under /api/."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_error(
            400, "Your form expired or was sent from elsewhere. Reload the page and try again."
        )

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> tuple[str, int] | Response:
        if is_api_request():
            return domain_problem(error)
        return render_refusal(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | Response:
        status = error.code or 500
        if is_api_request():
            headers = {k: v for k, v in error.get_headers() if k.lower() == "allow"}
            return http_problem(status, MESSAGES.get(status) or error.description or "", headers)
        return render_error(status, MESSAGES.get(status) or error.description)

    @app.errorhandler(DataError)
    def data_error(error: DataError) -> tuple[str, int] | Response:
        # Text with a NUL, which PostgreSQL cannot store, from a field no rule checked: the
        # statement failed before it ran, and the request's transaction is rolled back.
        if "NUL (0x00)" not in str(error.orig):
            return unexpected(error)
        if is_api_request():
            return http_problem(400, UNSTORABLE_TEXT)
        return render_error(400, UNSTORABLE_TEXT)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int] | Response:
        app.logger.exception("unhandled error")
        if is_api_request():
            return http_problem(500, MESSAGES[500])
        return render_error(500)
