"""Opaque tokens: 256 random bits behind a readable prefix, stored only as their SHA-256.

A plain SHA-256 is enough (no slow hash, no server-side key): nobody can guess 256 random bits,
so a copy of the table cannot be turned back into tokens, and unlike an HMAC with a server key
nothing breaks when SECRET_KEY rotates. The login sessions store theirs the same way.
"""

from __future__ import annotations

import hashlib
import secrets

PERSONAL_PREFIX = "eh_pat_"
REFRESH_PREFIX = "eh_rt_"


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
