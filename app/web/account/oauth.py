"""Sign in with Google, Facebook, GitHub or a company OpenID Connect provider (authlib).

A provider is offered only when its client id is configured. Who the external identity
signs in as is decided in app/domain/accounts/oauth_linking.py.

The same round trip serves a signed-in user who links another provider to their account,
or confirms who they are through one already linked (`INTENT_KEY`, kept in the signed cookie
session across the trip): the provider is asked to make its user log in again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
from app.domain.accounts.oauth_linking import (
    ExternalProfile,
    confirm_identity,
    link_identity,
    sign_in_external,
)
from app.domain.base import utcnow
from app.web.account import mailer, notices, session_login
from app.web.account.session_login import safe_next
from app.web.authz import signed_in_user, signed_in_user_or_none
from app.web.network import client_ip

bp = Blueprint("account_oauth", __name__)
EXTENSION = "eventhall.oauth"
NEXT_KEY = "oauth_next"
INTENT_KEY = "oauth_intent"
LINK, CONFIRM = "link", "confirm"


@dataclass(frozen=True)
class Provider:
    key: str
    config_prefix: str
    label: str
    settings: dict[str, Any]
    # Authorization parameters that make the provider ask its user to log in again.
    fresh_login: dict[str, str] = field(default_factory=dict)


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
        {"prompt": "login"},
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
        {"auth_type": "reauthenticate"},
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
    Provider("oidc", "OIDC", "", {"client_kwargs": OPENID_SCOPE}, {"prompt": "login"}),
)


def _configured(app: Flask) -> list[Provider]:
    return [p for p in PROVIDERS if app.config.get(f"{p.config_prefix}_CLIENT_ID")]


def _label(provider: Provider) -> str:
    return provider.label or str(current_app.config.get("OIDC_NAME") or "Single sign-on")


def enabled_providers() -> list[tuple[str, str]]:
    """(key, button label) of every provider with a client id, for the login page."""
    return [(p.key, _label(p)) for p in _configured(current_app)]


def provider_label(key: str) -> str:
    """The name a provider is shown by (configured or not: a link may outlive its settings)."""
    provider = next((p for p in PROVIDERS if p.key == key), None)
    return _label(provider) if provider is not None else key


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
    cookie_session.pop(INTENT_KEY, None)
    cookie_session[NEXT_KEY] = safe_next(request.args.get("next"))
    return client.authorize_redirect(
        mailer.absolute_url("account_oauth.callback", provider=provider)
    )


def start_for_user(provider: str, intent: str, next_url: str) -> ResponseReturnValue:
    """Send a signed-in user to the provider to link it (LINK) or confirm who they are
    (CONFIRM); the callback finishes it for the same user only."""
    client = _client(provider)
    cookie_session[INTENT_KEY] = {"kind": intent, "uid": signed_in_user().id}
    cookie_session[NEXT_KEY] = safe_next(next_url)
    settings = next(p for p in PROVIDERS if p.key == provider).fresh_login
    return client.authorize_redirect(
        mailer.absolute_url("account_oauth.callback", provider=provider), **settings
    )


@bp.get("/oauth/<provider>/callback")
def callback(provider: str) -> ResponseReturnValue:
    """Back from the provider: sign in (second factor first when the account has one), or
    finish what a signed-in user started."""
    client = _client(provider)
    next_url = safe_next(cookie_session.pop(NEXT_KEY, None))
    intent = cookie_session.pop(INTENT_KEY, None)
    label = provider_label(provider)
    signed_in = signed_in_user_or_none()
    for_user = (
        isinstance(intent, dict) and signed_in is not None and intent.get("uid") == signed_in.id
    )
    fallback = url_for("account_profile.profile") if for_user else url_for("auth.login")
    try:
        profile = fetch_profile(provider, client)
        if for_user:
            return _finish_for_user(str(intent.get("kind")), profile, label, next_url)
        found = sign_in_external(get_session(), profile, now=utcnow(), ip=client_ip())
    except (OAuthError, JoseError, requests.RequestException, ValueError) as exc:
        current_app.logger.warning("sign-in with %s failed: %s", provider, exc)
        flash(f"Signing in with {label} did not work. Please try again.", "error")
        return redirect(fallback)
    except AccountError as error:
        flash(error.message, "error")
        return redirect(fallback)
    user = found.user
    # Logging in starts a new cookie session: the messages come after it.
    if user.has_2fa:
        session_login.begin_second_factor(user, remember=False, next_url=next_url, method=provider)
        target = url_for("auth.login_code")
    else:
        session_login.finish_login(user, remember=False, second_factor_done=False, method=provider)
        target = next_url
    if found.removed:
        notices.links_removed(user, [provider_label(p) for p in found.removed])
    if found.created and user.email_verified_at is None:
        # The provider did not vouch for the address: it is proven by the link we mail.
        if notices.mail_allowed(user.email):
            notices.send_verification(user)
        flash(
            f"Welcome, {user.name}! Please confirm your email address with the link we sent to "
            f"{user.email} before you book tickets.",
            "warning",
        )
    elif found.created:
        flash(f"Welcome, {user.name}! Your account is ready.", "success")
    return redirect(target)


def _finish_for_user(
    intent: str, profile: ExternalProfile, label: str, next_url: str
) -> ResponseReturnValue:
    user = signed_in_user()
    db = get_session()
    if intent == LINK:
        if link_identity(db, user, profile, now=utcnow(), ip=client_ip()):
            notices.security_change(user, f"linked signing in through {label}")
            flash(f"You can now sign in with {label}.", "success")
        return redirect(url_for("account_profile.profile"))
    confirm_identity(db, user, profile, now=utcnow(), ip=client_ip())
    flash("Thank you: you confirmed it is you.", "success")
    return redirect(next_url)
