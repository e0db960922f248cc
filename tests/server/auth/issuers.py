"""A stand-in OpenID provider for tests: a real HTTP server on a free port
that publishes a discovery document and a key set, signs tokens with real
RSA and EC keys, and counts how often its documents are fetched.

    with an_issuer() as issuer:
        token = issuer.sign({"sub": "alice", ...})
        issuer.rotate()            # publish a new key, sign with it
        issuer.fetches["/jwks"]    # how many times Maca fetched the keys
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, Key, KeySet, RSAKey


# Keys are made once per kid for the whole run: generating RSA keys is slow.
@cache
def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"}, private=True)


@cache
def ec_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig"}, private=True)


class Issuer:
    def __init__(self) -> None:
        self.keys: list[Key] = [rsa_key("rsa-1"), ec_key("ec-1")]
        self.fetches: Counter[str] = Counter()
        self.url = ""
        self.down = False

    # --- what the provider publishes ------------------------------------------

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/jwks",
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
        }

    def public_keys(self) -> dict[str, Any]:
        return dict(KeySet([key for key in self.keys]).as_dict(private=False))

    def rotate(self, kid: str = "rsa-2") -> RSAKey:
        key = rsa_key(kid)
        self.keys.append(key)
        return key

    # --- tokens -----------------------------------------------------------------

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """An RFC 9068 access token's claims for a health auditor."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": "user-1",
            "aud": "maca",
            "client_id": "health-records",
            "jti": f"jti-{time.monotonic_ns()}",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "name": "Avery Auditor",
            "organisation": "trust-1",
            "organisation_name": "Trust One",
            "agency_kind": "health",
            "partnership": "partnership-1",
            "roles": ["auditor"],
        }
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: Key | None = None,
        alg: str = "RS256",
        typ: str | None = "at+jwt",
        kid: str | None = "default",
    ) -> str:
        key = key or self.keys[0]
        header: dict[str, Any] = {"alg": alg}
        if typ is not None:
            header["typ"] = typ
        if kid == "default":
            header["kid"] = key.kid
        elif kid is not None:
            header["kid"] = kid
        return jwt.encode(header, claims, key, algorithms=[alg], default_type=None)


@contextmanager
def an_issuer() -> Iterator[Issuer]:
    issuer = Issuer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer.fetches[self.path] += 1
            documents = {
                "/.well-known/openid-configuration": issuer.metadata,
                "/jwks": issuer.public_keys,
            }
            if issuer.down or self.path not in documents:
                self.send_response(503 if issuer.down else 404)
                self.end_headers()
                return
            body = json.dumps(documents[self.path]()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()
