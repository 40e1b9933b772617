"""Application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app import db
from app.config import ROOT, load_config
from app.domain.ticketing import availability
from app.extensions import csrf, htmx, login_manager
from app.observability import logs, tracing
from app.observability import web as observed


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment (overridden by `test_config`), extensions,
    blueprints and CLI commands. Nothing is started at import time."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_mapping(load_config())
    if test_config:
        app.config.update(test_config)
    logs.configure(app.config)
    tracing.start_sentry(app.config, flask=True)

    if app.config["TRUSTED_PROXIES"]:
        # Behind N reverse proxies, trust their X-Forwarded-* so per-IP limits see the client.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    observed.register(app)  # before the database's hooks: the commit counts in the latency
    database = db.init_app(app)
    provider = tracing.start_tracing(app.config, "web")
    if provider is not None:
        tracing.trace_flask(app, provider)
        tracing.trace_sql(database.engine, provider)
    availability.configure_from(app.config)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)

    from app.cli import register_cli
    from app.web import register_web

    register_web(app)
    register_cli(app)
    return app
