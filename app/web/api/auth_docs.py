"""The sign-in routes (app/web/api/auth.py) and /me (app/web/api/me.py) in the OpenAPI
document: their JSON as the views read and write it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.web.api import auth, me
from app.web.api.openapi import describe

TAG = "authentication"


class TokenRequest(BaseModel):
    email: str = Field(min_length=1, max_length=auth.FIELD_MAX)
    password: str = Field(min_length=1, max_length=auth.FIELD_MAX)
    otp: str | None = Field(None, max_length=auth.FIELD_MAX, description="With 2FA on")


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=auth.FIELD_MAX)


class TokenPair(BaseModel):
    access_token: str
    token_type: str
    expires_in: int = Field(description="Seconds")
    refresh_token: str
    refresh_expires_in: int = Field(description="Seconds")


class Me(BaseModel):
    id: int
    name: str
    email: str
    role: str
    token: str = Field(description="The kind of token used")
    scopes: list[str]


describe(
    auth.token,
    summary="Sign in for a token pair",
    tag=TAG,
    body=TokenRequest,
    response=TokenPair,
    errors=(401, 403, 422),
)
describe(
    auth.refresh_token,
    summary="Exchange a refresh token",
    tag=TAG,
    body=RefreshRequest,
    response=TokenPair,
    errors=(401, 422),
)
describe(
    auth.logout,
    summary="Revoke a refresh token's family",
    tag=TAG,
    body=RefreshRequest,
    status=204,
    errors=(401, 422),
)
describe(me.me, summary="Who the token belongs to", tag=TAG, response=Me, bearer=True)
