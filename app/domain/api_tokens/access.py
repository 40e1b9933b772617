"""Short-lived signed access tokens (JWT, RFC 9068 shape) issued with a refresh token.

HS256 with a key derived from SECRET_KEY for this one purpose: only this app issues and checks
them, so a shared secret is enough, and the derivation keeps a token from ever being valid as
another signed thing of the app. The algorithm is fixed when checking: a token claiming "none"
or any other algorithm is refused. The token names its user and its refresh family (`fam`),
and the bearer check rejects it once the family is revoked, so logout and a password change
end access tokens at once, not after their five minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import OctKey

from app.domain.api_tokens.errors import ApiAuthError, expired_token

ACCESS_TTL = timedelta(minutes=5)
ISSUER = "eventhall"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    family_id: int


def _key(secret_key: str) -> OctKey:
    derived = hmac.new(secret_key.encode(), b"eventhall.api-access-token", hashlib.sha256)
    return OctKey.import_key(derived.digest())


def issue_access_token(secret_key: str, *, user_id: int, family_id: int, now: datetime) -> str:
    issued = int(now.timestamp())
    claims = {
        "iss": ISSUER,
        "sub": str(user_id),
        "fam": family_id,
        "iat": issued,
        "exp": issued + int(ACCESS_TTL.total_seconds()),
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode({"alg": ALGORITHM, "typ": "at+jwt"}, claims, _key(secret_key))


def read_access_token(secret_key: str, token: str, *, now: datetime) -> AccessClaims:
    """The claims of a token this app signed and that has not expired at `now`."""
    try:
        decoded = jwt.decode(token, _key(secret_key), algorithms=[ALGORITHM])
        jwt.JWTClaimsRegistry(
            now=int(now.timestamp()),
            iss={"essential": True, "value": ISSUER},
            sub={"essential": True},
            exp={"essential": True},
            fam={"essential": True},
        ).validate(decoded.claims)
        return AccessClaims(
            user_id=int(decoded.claims["sub"]), family_id=int(decoded.claims["fam"])
        )
    except ExpiredTokenError as exc:
        raise expired_token() from exc
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ApiAuthError() from exc
