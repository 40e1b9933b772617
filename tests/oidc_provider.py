"""A small OpenID Connect provider for tests, served over real HTTP from a thread.

It implements discovery, /authorize (approves at once and redirects back with a code),
/token (an id_token signed RS256 with a key generated here), /userinfo and /jwks. Each
authorization signs in as `provider.next_claims`; knobs let a test make it misbehave.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "eventhall-test"
CLIENT_SECRET = "test-client-secret"  # noqa: S105 - a test fixture, not a credential


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


class OIDCProvider:
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.next_claims: dict[str, Any] = {}
        self.wrong_nonce = False
        self.foreign_key = False
        self._codes: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def __enter__(self) -> OIDCProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()

    def wsgi(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        routes = {
            "/.well-known/openid-configuration": self.discovery,
            "/authorize": self.authorize,
            "/token": self.token,
            "/userinfo": self.userinfo,
            "/jwks": self.jwks,
        }
        handler = routes.get(request.path)
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    def discovery(self, request: Request) -> Response:
        return _json(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "userinfo_endpoint": f"{self.url}/userinfo",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "scopes_supported": ["openid", "email", "profile"],
            }
        )

    def authorize(self, request: Request) -> Response:
        args = request.args
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            return Response("bad authorization request", status=400)
        code = secrets.token_urlsafe(16)
        self._codes[code] = {
            "nonce": args.get("nonce"),
            "redirect_uri": args["redirect_uri"],
            "claims": dict(self.next_claims),
        }
        query = urlencode({"code": code, "state": args.get("state", "")})
        return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{query}"})

    def _client_authenticated(self, request: Request) -> bool:
        if request.authorization and request.authorization.type == "basic":
            return (request.authorization.username, request.authorization.password) == (
                CLIENT_ID,
                CLIENT_SECRET,
            )
        return (request.form.get("client_id"), request.form.get("client_secret")) == (
            CLIENT_ID,
            CLIENT_SECRET,
        )

    def token(self, request: Request) -> Response:
        if not self._client_authenticated(request):
            return _json({"error": "invalid_client"}, 401)
        grant = self._codes.pop(request.form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != request.form.get("redirect_uri"):
            return _json({"error": "invalid_grant"}, 400)
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": "forged" if self.wrong_nonce else grant["nonce"],
            **grant["claims"],
        }
        signing_key = (
            RSAKey.generate_key(2048, parameters={"kid": "test-key"})
            if self.foreign_key
            else self.key
        )
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, signing_key)
        access_token = secrets.token_urlsafe(16)
        self._tokens[access_token] = grant["claims"]
        return _json(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "openid email profile",
                "id_token": id_token,
            }
        )

    def userinfo(self, request: Request) -> Response:
        header = request.headers.get("Authorization", "")
        claims = self._tokens.get(header.removeprefix("Bearer "))
        if claims is None:
            return _json({"error": "invalid_token"}, 401)
        return _json(claims)

    def jwks(self, request: Request) -> Response:
        return _json(KeySet([self.key]).as_dict(private=False))
