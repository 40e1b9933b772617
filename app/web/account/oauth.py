"""Sign in with Google, Facebook, GitHub or a company OpenID Connect provider (authlib).

A provider is offered only when its client id is configured. Who the external identity
signs in as is decided in app/domain/accounts/oauth_linking.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, abort, current_app, flash, redirect, request, url_for
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from joserfc.errors import JoseError

from app.db import get_session
from app.domain.accounts.errors import AccountError
from app.domain.accounts.oauth_linking import ExternalProfile, sign_in_external
from app.domain.base import utcnow
from app.web.account import mailer, session_login
from app.web.account.session_login import client_ip, safe_next

bp = Blueprint("account_oauth", __name__)
EXTENSION = "eventhall.oauth"
NEXT_KEY = "oauth_next"


@dataclass(frozen=True)
class Provider:
    key: str
    config_prefix: str
    label: str
    settings: dict[str, Any]


OPENID_SCOPE = {"scope": "openid email profile"}
PROVIDERS = (
    Provider(
        "google",
        "GOOGLE",
        "Google",
        {
            "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration",
            "client_kwargs": OPENID_SCOPE,
        },
    ),
    Provider(
        "facebook",
        "FACEBOOK",
        "Facebook",
        {
            "authorize_url": "https://www.facebook.com/v19.0/dialog/oauth",
            "access_token_url": "https://graph.facebook.com/v19.0/oauth/access_token",
            "api_base_url": "https://graph.facebook.com/v19.0/",
            "client_kwargs": {"scope": "email public_profile"},
        },
    ),
    Provider(
        "github",
        "GITHUB",
        "GitHub",
        {
            "authorize_url": "https://github.com/login/oauth/authorize",
            "access_token_url": "https://github.com/login/oauth/access_token",
            "api_base_url": "https://api.github.com/",
            "client_kwargs": {"scope": "read:user user:email"},
        },
    ),
    Provider("oidc", "OIDC", "", {"client_kwargs": OPENID_SCOPE}),
)


def _configured(app: Flask) -> list[Provider]:
    return [p for p in PROVIDERS if app.config.get(f"{p.config_prefix}_CLIENT_ID")]


def _label(provider: Provider) -> str:
    return provider.label or str(current_app.config.get("OIDC_NAME") or "Single sign-on")


def enabled_providers() -> list[tuple[str, str]]:
    """(key, button label) of every provider with a client id, for the login page."""
    return [(p.key, _label(p)) for p in _configured(current_app)]


@bp.record_once
def _register_clients(state: Any) -> None:
    app: Flask = state.app
    oauth = OAuth(app)
    for provider in _configured(app):
        settings = dict(provider.settings)
        if provider.key == "oidc":
            settings["server_metadata_url"] = app.config["OIDC_DISCOVERY_URL"]
        oauth.register(
            provider.key,
            client_id=app.config[f"{provider.config_prefix}_CLIENT_ID"],
            client_secret=app.config.get(f"{provider.config_prefix}_CLIENT_SECRET") or None,
            **settings,
        )
    app.extensions[EXTENSION] = oauth


def _client(key: str) -> Any:
    if key not in dict(enabled_providers()):
        abort(404)
    return current_app.extensions[EXTENSION].create_client(key)


def _github_profile(client: Any, token: dict[str, Any]) -> ExternalProfile:
    user = client.get("user", token=token).json()
    emails = client.get("user/emails", token=token).json()
    primary = next((e for e in emails if e.get("primary")), None) or {}
    return ExternalProfile(
        provider="github",
        subject=str(user.get("id") or ""),
        email=primary.get("email") or user.get("email"),
        email_verified=bool(primary.get("verified")),
        name=user.get("name") or user.get("login"),
    )


def _facebook_profile(client: Any, token: dict[str, Any]) -> ExternalProfile:
    me = client.get("me", params={"fields": "id,name,email"}, token=token).json()
    # The Graph API does not say whether the address was confirmed: treat it as unproven.
    return ExternalProfile(
        provider="facebook",
        subject=str(me.get("id") or ""),
        email=me.get("email"),
        email_verified=False,
        name=me.get("name"),
    )


def _openid_profile(key: str, client: Any, token: dict[str, Any]) -> ExternalProfile:
    claims = dict(token.get("userinfo") or {})
    if "email" not in claims and client.load_server_metadata().get("userinfo_endpoint"):
        claims.update(client.userinfo(token=token))
    verified = claims.get("email_verified")
    return ExternalProfile(
        provider=key,
        subject=str(claims.get("sub") or ""),
        email=claims.get("email"),
        email_verified=verified is True or str(verified).lower() == "true",
        name=claims.get("name"),
    )


def fetch_profile(key: str, client: Any) -> ExternalProfile:
    """Exchange the code for a token and read who the provider says the user is."""
    token = client.authorize_access_token()
    if key == "github":
        return _github_profile(client, token)
    if key == "facebook":
        return _facebook_profile(client, token)
    return _openid_profile(key, client, token)


@bp.get("/oauth/<provider>/login")
def start(provider: str) -> ResponseReturnValue:
    """Send the browser to the provider's consent page."""
    client = _client(provider)
    cookie_session[NEXT_KEY] = safe_next(request.args.get("next"))
    return client.authorize_redirect(
        mailer.absolute_url("account_oauth.callback", provider=provider)
    )


@bp.get("/oauth/<provider>/callback")
def callback(provider: str) -> ResponseReturnValue:
    """Back from the provider: sign in (second factor first when the account has one)."""
    client = _client(provider)
    next_url = safe_next(cookie_session.pop(NEXT_KEY, None))
    label = dict(enabled_providers())[provider]
    try:
        profile = fetch_profile(provider, client)
        user, created = sign_in_external(get_session(), profile, now=utcnow(), ip=client_ip())
    except (OAuthError, JoseError, requests.RequestException, ValueError) as exc:
        current_app.logger.warning("sign-in with %s failed: %s", provider, exc)
        flash(f"Signing in with {label} did not work. Please try again.", "error")
        return redirect(url_for("auth.login"))
    except AccountError as error:
        flash(error.message, "error")
        return redirect(url_for("auth.login"))
    if user.has_2fa:
        session_login.begin_second_factor(user, remember=False, next_url=next_url, method=provider)
        return redirect(url_for("auth.login_code"))
    session_login.finish_login(user, remember=False, second_factor_done=False, method=provider)
    if created:
        flash(f"Welcome, {user.name}! Your account is ready.", "success")
    return redirect(next_url)
