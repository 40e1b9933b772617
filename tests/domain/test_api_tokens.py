"""API credentials without HTTP: access token lifetime and signature, bearer checks, and the
revocations that hang off the login sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from sqlalchemy import func, select

from app.domain.accounts.deletion import delete_account
from app.domain.accounts.sessions import revoke_user_sessions
from app.domain.api_tokens import personal, refresh
from app.domain.api_tokens.access import ACCESS_TTL, issue_access_token, read_access_token
from app.domain.api_tokens.bearer import authenticate_bearer
from app.domain.api_tokens.errors import ApiAuthError
from app.domain.api_tokens.models import PersonalToken, RefreshFamily, RefreshToken
from tests.factories.accounts import DEFAULT_PASSWORD

SECRET = "a domain test secret key"


def test_an_access_token_lives_five_minutes(now) -> None:  # noqa: ANN001
    token = issue_access_token(SECRET, user_id=7, family_id=3, now=now)
    claims = read_access_token(SECRET, token, now=now + ACCESS_TTL - timedelta(seconds=1))
    assert (claims.user_id, claims.family_id) == (7, 3)
    with pytest.raises(ApiAuthError) as expired:
        read_access_token(SECRET, token, now=now + ACCESS_TTL)
    assert expired.value.code == "expired_token"


def test_only_this_apps_hs256_tokens_are_read(now) -> None:  # noqa: ANN001
    claims = {"iss": "eventhall", "sub": "7", "fam": 3, "exp": int(now.timestamp()) + 60}
    # Signed with the raw SECRET_KEY rather than the derived key, or by another issuer.
    raw_key = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(SECRET.encode()))
    other_issuer = issue_access_token("another", user_id=7, family_id=3, now=now)
    no_family = jwt.encode({"alg": "HS256"}, {**claims, "fam": None}, OctKey.import_key(b"x" * 32))
    for token in (raw_key, other_issuer, no_family, "", "...", "eyJhbGciOiJub25lIn0.e30."):
        with pytest.raises(ApiAuthError) as refused:
            read_access_token(SECRET, token, now=now)
        assert refused.value.code == "invalid_token"


def test_ending_all_sessions_revokes_the_refresh_families(db, make_user, now) -> None:  # noqa: ANN001
    user = make_user()
    family, raw = refresh.start_family(db, user, now=now, ttl=timedelta(days=1))
    access = issue_access_token(SECRET, user_id=user.id, family_id=family.id, now=now)
    assert authenticate_bearer(db, access, secret_key=SECRET, now=now).user.id == user.id
    revoke_user_sessions(db, user.id, now=now)
    with pytest.raises(ApiAuthError) as refused:
        authenticate_bearer(db, access, secret_key=SECRET, now=now)
    assert refused.value.code == "revoked_token"
    with pytest.raises(ApiAuthError):
        refresh.rotate(db, raw, now=now, ttl=timedelta(days=1))


def test_a_deleted_users_access_token_is_refused(db, make_user, now) -> None:  # noqa: ANN001
    user = make_user()
    family, _raw = refresh.start_family(db, user, now=now, ttl=timedelta(days=1))
    access = issue_access_token(SECRET, user_id=user.id, family_id=family.id, now=now)
    user.deleted_at = now
    db.flush()
    with pytest.raises(ApiAuthError) as refused:
        authenticate_bearer(db, access, secret_key=SECRET, now=now)
    assert refused.value.code == "invalid_token"


def test_deleting_the_account_deletes_its_api_credentials(db, make_user, now) -> None:  # noqa: ANN001
    user = make_user()
    user.authenticated_at = now
    personal.create_token(db, user, name="x", scopes=["events:read"], lifetime=None, now=now)
    refresh.start_family(db, user, now=now, ttl=timedelta(days=1))
    delete_account(db, user, password=DEFAULT_PASSWORD, now=now)
    for model in (PersonalToken, RefreshFamily, RefreshToken):
        assert db.scalar(select(func.count()).select_from(model)) == 0
