"""Every setting comes from the environment, with a development default.

The README's configuration table lists the same names; keep the two in step.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_BYTES = 32

TWILIO_SETTINGS = ("ACCOUNT_SID", "AUTH_TOKEN", "FROM")

# Settings that may also be given as NAME_FILE, the path of a file holding the value (a mounted
# Kubernetes Secret, Vault Agent, a cloud secrets manager's CSI volume).
SECRET_SETTINGS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "DATABASE_DIRECT_URL",
    "SENDGRID_API_KEY",
    "VAPID_PRIVATE_KEY",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "GOOGLE_CLIENT_SECRET",
    "FACEBOOK_CLIENT_SECRET",
    "GITHUB_CLIENT_SECRET",
    "OIDC_CLIENT_SECRET",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "DEMO_PAY_SECRET",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "RAZORPAY_KEY_ID",
    "RAZORPAY_KEY_SECRET",
    "RAZORPAY_WEBHOOK_SECRET",
    "PAYPAL_CLIENT_ID",
    "PAYPAL_CLIENT_SECRET",
    "PAYPAL_WEBHOOK_ID",
    "SENTRY_DSN",
    "METRICS_TOKEN",
)


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    return int(raw) if raw not in (None, "") else default


def with_secret_files(env: dict[str, str], names: tuple[str, ...] = SECRET_SETTINGS) -> None:
    """Fill each NAME from the file NAME_FILE names, in place; an empty variable is unset.

    The file's content is the value, less its trailing line break. Setting both NAME and
    NAME_FILE, or naming a file that cannot be read, stops the process with the reason.
    """
    for name in names:
        path = env.get(f"{name}_FILE")
        if not path:
            continue
        if env.get(name):
            raise RuntimeError(f"set {name} or {name}_FILE, not both")
        try:
            value = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise RuntimeError(f"{name}_FILE: cannot read {path}: {reason}") from None
        env[name] = value.removesuffix("\n").removesuffix("\r")


def load_config(env: dict[str, str] | None = None) -> dict[str, object]:
    """Build the Flask config mapping from environment variables."""
    env = dict(os.environ if env is None else env)
    with_secret_files(env)
    app_env = env.get("APP_ENV", "development")
    instance = Path(env.get("INSTANCE_DIR", ROOT / "instance"))
    debug = app_env == "development"
    production = app_env == "production"
    secret = env.get("SECRET_KEY") or _dev_secret(instance, app_env)
    if production and len(secret.encode()) < MIN_SECRET_BYTES:
        raise RuntimeError(
            f"SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production "
            "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    base_url = env.get("BASE_URL", "").rstrip("/")
    if production and not base_url.startswith(("https://", "http://")):
        # Links in mail, canonical URLs and calendar UIDs come from it, never the Host header.
        raise RuntimeError(
            "BASE_URL must be set in production to the address users reach the site on "
            "(e.g. https://tickets.example.com)"
        )
    # Production sends cookies over HTTPS only, whatever SESSION_COOKIE_SECURE says.
    secure_cookies = production or _bool(
        env.get("SESSION_COOKIE_SECURE"), not debug and app_env != "test"
    )
    return {
        "APP_ENV": app_env,
        "DEBUG": debug,
        "TESTING": app_env == "test",
        "SECRET_KEY": secret,
        "INSTANCE_DIR": str(instance),
        "DATABASE_URL": env.get("DATABASE_URL", ""),
        # A streaming replica for the event listing and search (docs/scaling.md); empty: none.
        "DATABASE_REPLICA_URL": env.get("DATABASE_REPLICA_URL", ""),
        # Behind a transaction pooler (PgBouncer, pool_mode=transaction): DATABASE_URL is the
        # pooler; LISTEN connections, the worker and migrations use DATABASE_DIRECT_URL.
        "DATABASE_TRANSACTION_POOLER": _bool(env.get("DATABASE_TRANSACTION_POOLER")),
        "DATABASE_DIRECT_URL": env.get("DATABASE_DIRECT_URL", ""),
        "PGDATA_DIR": env.get("PGDATA_DIR", str(instance / "pgdata")),
        "BASE_URL": base_url or "http://127.0.0.1:5000",
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 0),
        # Development mode listens on loopback only unless this says otherwise (app/serving.py).
        "ALLOW_DEV_ON_NETWORK": _bool(env.get("ALLOW_DEV_ON_NETWORK")),
        # Production answers with Strict-Transport-Security for this long (0: not at all).
        "HSTS_SECONDS": _int(env, "HSTS_SECONDS", 365 * 86400),
        "SITE_NAME": env.get("SITE_NAME", "Eventhall"),
        # Mail: "outbox" writes .eml files under instance/outbox (development);
        # "smtp" and "sendgrid" deliver for real.
        "MAIL_BACKEND": env.get("MAIL_BACKEND", "outbox"),
        "MAIL_FROM": env.get("MAIL_FROM", "Eventhall <no-reply@eventhall.local>"),
        "MAIL_OUTBOX_DIR": env.get("MAIL_OUTBOX_DIR", str(instance / "outbox")),
        "SMTP_HOST": env.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": _int(env, "SMTP_PORT", 25),
        "SENDGRID_API_KEY": env.get("SENDGRID_API_KEY", ""),
        "SENDGRID_API_HOST": env.get("SENDGRID_API_HOST", "https://api.sendgrid.com"),
        # Web Push (VAPID): the site's key pair, base64url (the private key may also be PEM);
        # outside production a pair is made once and kept under instance/ when none is set.
        # Production without a private key offers no browser push.
        "VAPID_PRIVATE_KEY": env.get("VAPID_PRIVATE_KEY", ""),
        "VAPID_PUBLIC_KEY": env.get("VAPID_PUBLIC_KEY", ""),
        "VAPID_SUBJECT": env.get("VAPID_SUBJECT", ""),  # empty: mailto: MAIL_FROM's address
        # Subscriptions whose endpoint is plain http on this machine (a local test push
        # service); never in production.
        "PUSH_ALLOW_LOCAL_ENDPOINTS": not production
        and _bool(env.get("PUSH_ALLOW_LOCAL_ENDPOINTS")),
        "PUSH_SUBSCRIPTIONS_PER_USER": _int(env, "PUSH_SUBSCRIPTIONS_PER_USER", 10),
        # Webhooks out: organizers' endpoints on private or loopback addresses (a local test
        # receiver); never in production. The seconds a send may take before it is retried.
        "WEBHOOKS_ALLOW_PRIVATE_TARGETS": not production
        and _bool(env.get("WEBHOOKS_ALLOW_PRIVATE_TARGETS")),
        "WEBHOOK_TIMEOUT_SECONDS": float(env.get("WEBHOOK_TIMEOUT_SECONDS") or 5),
        # Firebase Cloud Messaging, for the phone app: a service account's JSON file.
        "FIREBASE_CREDENTIALS": env.get("FIREBASE_CREDENTIALS", ""),
        "FCM_API_BASE": env.get("FCM_API_BASE", "https://fcm.googleapis.com"),
        # Text messages: "outbox" writes .sms.txt files beside the mail (development); "twilio"
        # sends for real, the default once its three settings are set. TWILIO_FROM is a number
        # or a Messaging Service SID (MG...).
        "SMS_BACKEND": env.get("SMS_BACKEND")
        or ("twilio" if all(env.get(f"TWILIO_{n}") for n in TWILIO_SETTINGS) else "outbox"),
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID", ""),
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN", ""),
        "TWILIO_FROM": env.get("TWILIO_FROM", ""),
        "TWILIO_API_BASE": env.get("TWILIO_API_BASE", "https://api.twilio.com"),
        # Phone numbers: codes texted per number and per network in a window (the resend
        # cap); wrong codes per user and per network in a window.
        "SMS_CODES_PER_NUMBER": _int(env, "SMS_CODES_PER_NUMBER", 3),
        "SMS_CODES_PER_NETWORK": _int(env, "SMS_CODES_PER_NETWORK", 10),
        "SMS_CODES_WINDOW_SECONDS": _int(env, "SMS_CODES_WINDOW_SECONDS", 3600),
        "PHONE_CODE_MAX_FAILURES_PER_USER": _int(env, "PHONE_CODE_MAX_FAILURES_PER_USER", 5),
        "PHONE_CODE_MAX_FAILURES_PER_NETWORK": _int(env, "PHONE_CODE_MAX_FAILURES_PER_NETWORK", 20),
        "PHONE_CODE_WINDOW_SECONDS": _int(env, "PHONE_CODE_WINDOW_SECONDS", 900),
        # Accounts and security
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_DURATION": _int(env, "REMEMBER_DAYS", 30) * 86400,
        # A login without "remember me" ends after this many hours (or when the browser closes).
        "SESSION_TTL_HOURS": _int(env, "SESSION_TTL_HOURS", 12),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": _int(env, "MAX_UPLOAD_BYTES", 6 * 1024 * 1024),
        "MAX_FORM_MEMORY_SIZE": _int(env, "MAX_FORM_BYTES", 64 * 1024),
        # Failed logins per account from one network, per account from all networks (much
        # higher: a stranger must not lock a named user out), per network over all accounts.
        # Passwords and codes asked again in a session: per account, and per network.
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": _int(env, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_NETWORKS": _int(
            env, "LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_NETWORKS", 100
        ),
        "LOGIN_MAX_FAILURES_PER_IP": _int(env, "LOGIN_MAX_FAILURES_PER_IP", 20),
        "LOGIN_WINDOW_SECONDS": _int(env, "LOGIN_WINDOW_SECONDS", 900),
        # Account mails (registration, reset, email change, codes) per address and per network.
        "ACCOUNT_MAILS_PER_ADDRESS": _int(env, "ACCOUNT_MAILS_PER_ADDRESS", 5),
        "ACCOUNT_MAILS_PER_NETWORK": _int(env, "ACCOUNT_MAILS_PER_NETWORK", 30),
        "ACCOUNT_MAILS_WINDOW_SECONDS": _int(env, "ACCOUNT_MAILS_WINDOW_SECONDS", 3600),
        "PASSWORD_RESET_TTL_SECONDS": _int(env, "PASSWORD_RESET_TTL_SECONDS", 3600),
        "EMAIL_VERIFY_TTL_SECONDS": _int(env, "EMAIL_VERIFY_TTL_SECONDS", 3 * 86400),
        # OAuth / OIDC: each provider appears only when its client id is set.
        "GOOGLE_CLIENT_ID": env.get("GOOGLE_CLIENT_ID", ""),
        "GOOGLE_CLIENT_SECRET": env.get("GOOGLE_CLIENT_SECRET", ""),
        "FACEBOOK_CLIENT_ID": env.get("FACEBOOK_CLIENT_ID", ""),
        "FACEBOOK_CLIENT_SECRET": env.get("FACEBOOK_CLIENT_SECRET", ""),
        "GITHUB_CLIENT_ID": env.get("GITHUB_CLIENT_ID", ""),
        "GITHUB_CLIENT_SECRET": env.get("GITHUB_CLIENT_SECRET", ""),
        "OIDC_NAME": env.get("OIDC_NAME", "Company SSO"),
        "OIDC_DISCOVERY_URL": env.get("OIDC_DISCOVERY_URL", ""),
        "OIDC_CLIENT_ID": env.get("OIDC_CLIENT_ID", ""),
        "OIDC_CLIENT_SECRET": env.get("OIDC_CLIENT_SECRET", ""),
        # Storage for uploaded images: "local" (under instance/media) or "s3".
        "STORAGE_BACKEND": env.get("STORAGE_BACKEND", "local"),
        "MEDIA_DIR": env.get("MEDIA_DIR", str(instance / "media")),
        "S3_BUCKET": env.get("S3_BUCKET", ""),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL", ""),
        "S3_ACCESS_KEY_ID": env.get("S3_ACCESS_KEY_ID", ""),
        "S3_SECRET_ACCESS_KEY": env.get("S3_SECRET_ACCESS_KEY", ""),
        # Event listings: the zone in which date filters ("today", "this weekend") are computed.
        "EVENTS_DISPLAY_TZ": env.get("EVENTS_DISPLAY_TZ", "UTC"),
        # Caching (app/web/http_cache.py): how long a browser or CDN may reuse the home page
        # and listings of a visitor who is not signed in without asking again (the event page,
        # with its live counts, is always asked again). Event details and categories are kept
        # per process for at most EVENT_CACHE_SECONDS when no change announced itself
        # (app/web/public/hot_reads.py); 0 turns that cache off.
        "PUBLIC_PAGE_MAX_AGE_SECONDS": _int(env, "PUBLIC_PAGE_MAX_AGE_SECONDS", 30),
        "EVENT_CACHE_SECONDS": _int(env, "EVENT_CACHE_SECONDS", 30),
        # Booking
        "HOLD_MINUTES": _int(env, "HOLD_MINUTES", 10),
        "WAITLIST_OFFER_MINUTES": _int(env, "WAITLIST_OFFER_MINUTES", 30),
        # The limit per person a new ticket type starts with (organizers raise or remove it);
        # 0: new ticket types start without one.
        "TIER_DEFAULT_PER_USER_LIMIT": _int(env, "TIER_DEFAULT_PER_USER_LIMIT", 10),
        # Hoarding, per user and event (app/domain/ticketing/hoarding.py): at most
        # HOLD_RATE_MAX new bookings in any HOLD_RATE_WINDOW_SECONDS; after EXPIRED_HOLDS_MAX
        # holds ran out unpaid within EXPIRED_HOLDS_WINDOW_SECONDS, a wait of
        # EXPIRED_HOLDS_COOLDOWN_SECONDS after the last before holding again.
        "HOLD_RATE_MAX": _int(env, "HOLD_RATE_MAX", 10),
        "HOLD_RATE_WINDOW_SECONDS": _int(env, "HOLD_RATE_WINDOW_SECONDS", 600),
        "EXPIRED_HOLDS_MAX": _int(env, "EXPIRED_HOLDS_MAX", 3),
        "EXPIRED_HOLDS_WINDOW_SECONDS": _int(env, "EXPIRED_HOLDS_WINDOW_SECONDS", 3600),
        "EXPIRED_HOLDS_COOLDOWN_SECONDS": _int(env, "EXPIRED_HOLDS_COOLDOWN_SECONDS", 1800),
        # Booking, seat and waitlist posts per network (an IPv4 address, an IPv6 /64), counted
        # in each web process (app/web/network.py): a burst, refilled at a rate per minute.
        "NETWORK_BOOKING_BURST": _int(env, "NETWORK_BOOKING_BURST", 600),
        "NETWORK_BOOKING_PER_MINUTE": _int(env, "NETWORK_BOOKING_PER_MINUTE", 1200),
        # The JSON API (/api/v1), counted like the booking posts: per network, and per token
        # (app/web/api/__init__.py). Refresh tokens live this long unless exchanged.
        "API_NETWORK_BURST": _int(env, "API_NETWORK_BURST", 300),
        "API_NETWORK_PER_MINUTE": _int(env, "API_NETWORK_PER_MINUTE", 1200),
        "API_TOKEN_BURST": _int(env, "API_TOKEN_BURST", 120),
        "API_TOKEN_PER_MINUTE": _int(env, "API_TOKEN_PER_MINUTE", 600),
        "API_REFRESH_TTL_DAYS": _int(env, "API_REFRESH_TTL_DAYS", 30),
        # Browser apps on these origins (comma-separated) may call /api/ (app/web/api/cors.py).
        "API_CORS_ORIGINS": env.get("API_CORS_ORIGINS", ""),
        # Guessing hidden tiers' access codes: wrong codes per user and per network in a window.
        "ACCESS_CODE_MAX_FAILURES_PER_USER": _int(env, "ACCESS_CODE_MAX_FAILURES_PER_USER", 10),
        "ACCESS_CODE_MAX_FAILURES_PER_NETWORK": _int(
            env, "ACCESS_CODE_MAX_FAILURES_PER_NETWORK", 50
        ),
        "ACCESS_CODE_WINDOW_SECONDS": _int(env, "ACCESS_CODE_WINDOW_SECONDS", 900),
        # Guessing coupon codes: codes that did not apply, per user and per network in a window.
        "COUPON_MAX_FAILURES_PER_USER": _int(env, "COUPON_MAX_FAILURES_PER_USER", 10),
        "COUPON_MAX_FAILURES_PER_NETWORK": _int(env, "COUPON_MAX_FAILURES_PER_NETWORK", 50),
        "COUPON_WINDOW_SECONDS": _int(env, "COUPON_WINDOW_SECONDS", 900),
        # Payments (app/integrations/payments): the demo provider, the site's own checkout, is
        # offered outside production; its webhook secret is kept under instance/ unless set.
        "PAYMENTS_DEMO": not production and _bool(env.get("PAYMENTS_DEMO"), True),
        "DEMO_PAY_SECRET": env.get("DEMO_PAY_SECRET", ""),
        # Real providers, each offered when its credentials are all set (README); the API
        # bases point the SDKs elsewhere (tests run local stand-ins).
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", ""),  # empty: the SDK's
        "RAZORPAY_KEY_ID": env.get("RAZORPAY_KEY_ID", ""),
        "RAZORPAY_KEY_SECRET": env.get("RAZORPAY_KEY_SECRET", ""),
        "RAZORPAY_WEBHOOK_SECRET": env.get("RAZORPAY_WEBHOOK_SECRET", ""),
        "RAZORPAY_API_BASE": env.get("RAZORPAY_API_BASE", "https://api.razorpay.com"),
        "PAYPAL_CLIENT_ID": env.get("PAYPAL_CLIENT_ID", ""),
        "PAYPAL_CLIENT_SECRET": env.get("PAYPAL_CLIENT_SECRET", ""),
        "PAYPAL_WEBHOOK_ID": env.get("PAYPAL_WEBHOOK_ID", ""),
        "PAYPAL_API_BASE": env.get("PAYPAL_API_BASE", "https://api-m.sandbox.paypal.com"),
        # A payment still pending after this long is looked up at its provider (webhooks get
        # lost) by the reconciliation sweep.
        "PAYMENT_RECONCILE_AFTER_SECONDS": _int(env, "PAYMENT_RECONCILE_AFTER_SECONDS", 900),
        # At most one availability NOTIFY per event and process per interval (0: every change).
        "AVAILABILITY_NOTIFY_INTERVAL_MS": _int(env, "AVAILABILITY_NOTIFY_INTERVAL_MS", 250),
        "DB_POOL_SIZE": _int(env, "DB_POOL_SIZE", 10),
        "LOCK_TIMEOUT_MS": _int(env, "LOCK_TIMEOUT_MS", 2000),
        # Live availability (server-sent events): at most one push per event per interval;
        # a comment line keeps idle streams open; a stream ends (the browser reconnects) after
        # SSE_STREAM_SECONDS so no connection lives forever.
        "LIVE_COALESCE_MS": _int(env, "LIVE_COALESCE_MS", 250),
        "SSE_KEEPALIVE_SECONDS": _int(env, "SSE_KEEPALIVE_SECONDS", 15),
        "SSE_STREAM_SECONDS": _int(env, "SSE_STREAM_SECONDS", 600),
        # Open streams a process serves, in all and to one client network (an IPv4 address or
        # an IPv6 /64); beyond them a stream is refused (503 / 429) and the browser retries.
        "LIVE_STREAMS_PER_PROCESS": _int(env, "LIVE_STREAMS_PER_PROCESS", 500),
        "LIVE_STREAMS_PER_CLIENT": _int(env, "LIVE_STREAMS_PER_CLIENT", 32),
        # Operations (app/observability, README "Operations / monitoring"): logs as JSON lines
        # ("json") or readable text ("text", the development default).
        "LOG_FORMAT": env.get("LOG_FORMAT") or ("text" if debug else "json"),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        # /metrics answers a scraper sending this bearer token; unset, it is 404. The worker
        # serves its metrics on WORKER_METRICS_PORT (0: not at all).
        "METRICS_TOKEN": env.get("METRICS_TOKEN", ""),
        "WORKER_METRICS_PORT": _int(env, "WORKER_METRICS_PORT", 0),
        "WORKER_METRICS_HOST": env.get("WORKER_METRICS_HOST", "0.0.0.0"),  # noqa: S104
        # Tracing and error reports, each on only when set.
        "OTEL_EXPORTER_OTLP_ENDPOINT": env.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
        "OTEL_SERVICE_NAME": env.get("OTEL_SERVICE_NAME", "eventhall"),
        "SENTRY_DSN": env.get("SENTRY_DSN", ""),
        "SENTRY_TRACES_SAMPLE_RATE": float(env.get("SENTRY_TRACES_SAMPLE_RATE") or 0),
    }


def _dev_secret(instance: Path, app_env: str) -> str:
    """A random key kept under instance/ so development sessions survive restarts."""
    if app_env == "production":
        raise RuntimeError("SECRET_KEY must be set in production")
    path = instance / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        instance.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key
