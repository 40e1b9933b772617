"""OpenTelemetry tracing and Sentry error reports, each only when configured.

OTEL_EXPORTER_OTLP_ENDPOINT set: requests (Flask), SQL statements (SQLAlchemy) and jobs (the
worker's `job_span`) become spans sent over OTLP/HTTP. SENTRY_DSN set: unhandled errors (and
logged exceptions) go to Sentry. Neither set: neither library is imported.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer
    from sqlalchemy import Engine

_tracer: Tracer | None = None


def start_tracing(
    config: Mapping[str, Any], service: str, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """A tracer provider exporting to OTEL_EXPORTER_OTLP_ENDPOINT (or to `exporter`, which a
    test passes), or None when tracing is not configured."""
    global _tracer
    endpoint = str(config.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "")
    if not endpoint and exporter is None:
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    name = str(config.get("OTEL_SERVICE_NAME") or "eventhall")
    provider = TracerProvider(resource=Resource.create({"service.name": f"{name}-{service}"}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        base = endpoint.rstrip("/")
        exporter = OTLPSpanExporter(endpoint=f"{base}/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    _tracer = provider.get_tracer("eventhall")
    return provider


def trace_flask(app: Flask, provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    FlaskInstrumentor().instrument_app(
        app, tracer_provider=provider, excluded_urls="healthz,readyz,metrics,static"
    )


def trace_sql(engine: Engine, provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # The instrumentation declares SQLAlchemy < 2.1; it works on 2.1 (its engine events are
    # unchanged), as tests/observability/test_tracing.py checks.
    SQLAlchemyInstrumentor().instrument(
        engine=engine, tracer_provider=provider, skip_dep_check=True
    )


@contextmanager
def job_span(name: str, **attributes: str | int) -> Iterator[None]:
    """A span around one job when tracing is on; nothing otherwise."""
    if _tracer is None:
        yield
        return
    with _tracer.start_as_current_span(name, attributes=attributes):
        yield


def start_sentry(config: Mapping[str, Any], *, flask: bool) -> bool:
    """Report errors to SENTRY_DSN when it is set (with Flask's request data in web
    processes); True when started."""
    dsn = str(config.get("SENTRY_DSN") or "")
    if not dsn:
        return False
    import sentry_sdk

    integrations = []
    if flask:
        from sentry_sdk.integrations.flask import FlaskIntegration

        integrations.append(FlaskIntegration())
    sentry_sdk.init(
        dsn=dsn,
        environment=str(config.get("APP_ENV") or "production"),
        integrations=integrations,
        traces_sample_rate=float(config.get("SENTRY_TRACES_SAMPLE_RATE") or 0),
        send_default_pii=False,
    )
    return True
