"""Errors of the JSON API as problem details (RFC 9457), each with a stable `code`."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response, jsonify, request

from app.domain.accounts.errors import TooManyAttempts
from app.domain.base import DomainError
from app.web.error_status import http_status

PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"
# Codes of plain HTTP refusals (no domain error behind them).
HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
}


def is_api_request() -> bool:
    return request.path.startswith(PREFIX)


def problem(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    """A problem details response; the `type` names the code, which clients switch on."""
    response = jsonify(
        type=f"urn:eventhall:problem:{code}",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
    )
    response.status_code = status
    response.mimetype = MEDIA_TYPE
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    response.headers.update(headers or {})
    return response


def domain_problem(error: DomainError) -> Response:
    headers = {}
    if isinstance(error, TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after)
    return problem(http_status(error), error.code, error.message, headers)


def http_problem(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return problem(status, HTTP_CODES.get(status, "error"), detail, headers)
