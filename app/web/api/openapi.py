"""The OpenAPI 3.1 document of /api/v1, built from the code: each route says what it answers
with `@operation(...)` (or `describe(view, ...)` for a view declared elsewhere), naming the
pydantic types its view builds its answer with; the paths, methods and path parameters come
from the URL map, so the document cannot list a route that does not exist."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.web.api import bp
from app.web.api.problems import HTTP_CODES
from app.web.api.schemas import ID_MAX, Problem

F = TypeVar("F", bound=Callable[..., Any])
REF = "#/components/schemas/{model}"
_ATTRIBUTE = "__openapi_operation__"
_PATH_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
# Path ids are PostgreSQL integers: the views answer 404 above this.


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    response: type[BaseModel] | None = None  # None: no body
    status: int = 200
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    etag: bool = False  # answers 304 to a matching If-None-Match
    bearer: bool = False  # needs `Authorization: Bearer`
    idempotent: bool = False  # takes an `Idempotency-Key` header


def operation(**fields: Any) -> Callable[[F], F]:
    """Record what the decorated view answers (see `Operation`) for the document."""

    def decorator(view: F) -> F:
        describe(view, **fields)
        return view

    return decorator


def describe(view: Callable[..., Any], **fields: Any) -> None:
    setattr(view, _ATTRIBUTE, Operation(**fields))


def build_document() -> dict[str, Any]:
    """The document for the app's current URL map (needs an app context)."""
    operations: list[tuple[str, str, Operation, list[dict[str, Any]]]] = []
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith(bp.url_prefix or "/api"):
            continue
        op = getattr(current_app.view_functions[rule.endpoint], _ATTRIBUTE, None)
        if op is None:
            continue
        path, parameters = _path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations.append((path, method.lower(), op, parameters))
    models = {Problem}
    for _, _, op, _ in operations:
        models.update(m for m in (op.response, op.body) if m is not None)
    refs, defs = models_json_schema(
        [(model, "serialization") for model in sorted(models, key=lambda m: m.__name__)],
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for path, method, op, parameters in sorted(operations, key=lambda o: (o[0], o[1])):
        paths.setdefault(path, {})[method] = _operation(op, parameters, refs)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Eventhall API",
            "version": "1",
            "description": "Errors are problem details (RFC 9457) with a stable `code`.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal access token, or an access token "
                    "from POST /api/v1/auth/token",
                }
            },
        },
    }
    return document


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for converter, name in _PATH_ARGUMENT.findall(rule):
        schema: dict[str, Any] = {"type": "string"}
        if converter == "int":
            schema = {"type": "integer", "minimum": 0, "maximum": ID_MAX}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _PATH_ARGUMENT.sub(lambda m: "{" + m.group(2) + "}", rule), parameters


def _operation(
    op: Operation, parameters: list[dict[str, Any]], refs: dict[Any, dict[str, Any]]
) -> dict[str, Any]:
    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return refs[(model, "serialization")]

    responses: dict[str, Any] = {}
    if op.response is None:
        responses[str(op.status)] = {"description": "Done"}
    else:
        ok: dict[str, Any] = {
            "description": "OK",
            "content": {"application/json": {"schema": ref(op.response)}},
        }
        if op.etag:
            ok["headers"] = {"ETag": {"schema": {"type": "string"}}}
        responses[str(op.status)] = ok
    if op.etag:
        responses["304"] = {"description": "Not modified: the If-None-Match ETag is current"}
    problem = {"application/problem+json": {"schema": ref(Problem)}}
    statuses = set(op.errors) | {429} | ({401} if op.bearer else set())
    for status in sorted(statuses):
        code = HTTP_CODES.get(status, "error")
        responses[str(status)] = {"description": f"Problem (e.g. `{code}`)", "content": problem}
    result: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": re.sub(r"\W+", "_", op.summary.lower()).strip("_"),
        "responses": responses,
    }
    parameters = parameters + _query_parameters(op.query)
    if op.etag:
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
            }
        )
    if op.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "A retry with the same key and body gets the first answer",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            }
        )
    if parameters:
        result["parameters"] = parameters
    if op.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(op.body)}},
        }
    if op.bearer:
        result["security"] = [{"bearer": []}]
    return result


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        field = _without_null(field)
        description = field.pop("description", None)
        field.pop("title", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": field,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _without_null(field: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` as X: a query parameter is absent rather than null."""
    field = dict(field)
    variants = field.pop("anyOf", None)
    if variants is None:
        return field
    kept = [variant for variant in variants if variant.get("type") != "null"]
    if field.get("default", 0) is None:
        field.pop("default")
    return {**kept[0], **field} if len(kept) == 1 else {**field, "anyOf": kept}


@bp.get("/openapi.json")
def document() -> ResponseReturnValue:
    """This API's OpenAPI 3.1 document."""
    return jsonify(build_document())
