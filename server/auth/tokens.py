"""Validating bearer tokens: Maca as an OAuth 2.0 resource server.

Access tokens are JWTs signed by the configured OpenID provider. The
provider's discovery document (``{issuer}/.well-known/openid-configuration``)
names its key set (``jwks_uri``); both are fetched over HTTP and cached. The
key set is fetched again when it is older than its time to live (a minute),
and when a token names a key (``kid``) it does not hold or its signature
does not verify with the key of that ``kid`` (a provider may replace a key
under the same id), at most once per ``refetch_interval`` so that tokens
with invented key ids or forged signatures cannot make Maca hammer the
provider.

A key the provider withdraws stops working within a minute: a verified
token is remembered (so a client's run of requests costs one signature
check) only while the key set that verified it is fresh, and the memory is
dropped whenever a fetched key set differs from the one before.

Checks, in order (RFC 7519, RFC 8725 "JWT best current practices",
RFC 9068 "JWT profile for access tokens"):

- a compact JWS, ``alg`` on an allow-list of asymmetric algorithms (never
  ``none``, never an HMAC that could be keyed with a public key);
- ``typ`` ``at+jwt`` (RFC 9068), or ``JWT``/absent when plain JWTs are
  accepted (Keycloak, Entra ID);
- the signature, with the provider's key of that ``kid``;
- ``iss`` the configured issuer, ``aud`` containing the audience, ``exp``,
  ``nbf`` and ``iat`` with 60 s of leeway for clock skew, a ``sub``;
- RFC 9068 tokens carry ``client_id`` and ``jti``; plain ones name their
  client in ``client_id``, ``azp`` or ``appid`` and may omit ``jti``.

A failure raises :class:`TokenRejected` whose message tells the caller what
was wrong (for ``WWW-Authenticate: Bearer error="invalid_token"``) and
nothing more.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx
from joserfc import jws, jwt
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import Key, KeySet
from joserfc.jwt import JWTClaimsRegistry

from server.auth.claims import client_of
from server.auth.transport import describe

log = logging.getLogger("maca.auth")

ALGORITHMS: Final = ("RS256", "PS256", "ES256")
LEEWAY_SECONDS: Final = 60
MAX_TOKEN_BYTES: Final = 16_384
# A verified access token is remembered for this long (never past its own
# expiry, nor past the freshness of the key set that verified it), so a
# client's run of requests costs one signature check, not one each.
VERIFIED_TTL_SECONDS: Final = 60.0
# How long a fetched key set is used before it is fetched again: a key the
# provider withdraws is honoured at most this long (a red-team pass found a
# withdrawn key honoured for about eleven minutes: a 600 s key cache and a
# minute of remembered tokens on top).
KEYS_TTL_SECONDS: Final = 60.0
VERIFIED_MAX_TOKENS: Final = 4096
# Which key types can verify which algorithm: an RSA key never verifies an
# ES256 signature, and no key verifies an HMAC one.
_KEY_TYPE: Final = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC"}


class TokenRejected(Exception):
    """A token Maca will not accept; the message says why, for the caller."""


class TokenExpired(TokenRejected):
    """A token past its ``exp``: told apart in the metrics, as the usual and
    harmless refusal beside the ones worth a look."""


class IssuerUnavailable(Exception):
    """The identity provider's discovery document or keys cannot be had."""


@dataclass
class _Cached:
    value: Any
    fetched_at: float
    pinned: bool = False


class TokenValidator:
    """Validates access tokens from one issuer; holds its keys.

    ``clock`` (monotonic seconds) times the caches; ``now`` (Unix seconds)
    checks ``exp``/``nbf``/``iat``. Tests pass their own.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        accept_plain_jwt: bool = True,
        http: httpx.AsyncClient | None = None,
        allow_http: bool = False,
        jwks_ttl: float = KEYS_TTL_SECONDS,
        metadata_ttl: float = 3600.0,
        refetch_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.accept_plain_jwt = accept_plain_jwt
        self.allow_http = allow_http
        self.jwks_ttl = jwks_ttl
        self.metadata_ttl = metadata_ttl
        self.refetch_interval = refetch_interval
        self._clock = clock
        self._now = now
        self._http = http
        self._owns_http = http is None
        self._metadata: _Cached | None = None
        self._keys: _Cached | None = None
        self._last_refetch: float | None = None
        self._lock = asyncio.Lock()
        # token → (its claims, Unix time until which they are trusted)
        self._verified: OrderedDict[str, tuple[dict[str, Any], float]] = OrderedDict()

    # --- the provider's metadata and keys -----------------------------------

    def trust(self, issuer: str, keys: KeySet, metadata: Mapping[str, Any]) -> None:
        """Hold ``keys`` and ``metadata`` for good, without fetching them: for
        an issuer living in this very process (the development issuer under
        an in-process test client, which has no port to fetch from)."""
        if issuer.rstrip("/") != self.issuer:
            raise ValueError(f"this validator trusts {self.issuer}, not {issuer}")
        self._metadata = _Cached(dict(metadata), self._clock(), pinned=True)
        self._keys = _Cached(keys, self._clock(), pinned=True)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(5.0, connect=3.0),
                follow_redirects=False,
                headers={"Accept": "application/json", "User-Agent": "maca"},
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._client().get(url)
        except httpx.HTTPError as error:
            # A TLS failure is named as one, with what to do (SSL_CERT_FILE).
            raise IssuerUnavailable(f"{url}: {describe(error, url)}") from None
        if response.status_code != 200:
            raise IssuerUnavailable(f"{url}: HTTP {response.status_code}")
        try:
            document = response.json()
        except ValueError:
            raise IssuerUnavailable(f"{url}: not JSON") from None
        if not isinstance(document, dict):
            raise IssuerUnavailable(f"{url}: not a JSON object")
        return document

    def _check_url(self, url: object, what: str) -> str:
        if not isinstance(url, str) or not (
            url.startswith("https://") or (self.allow_http and url.startswith("http://"))
        ):
            raise IssuerUnavailable(f"the provider's {what} is not an https:// URL")
        return url

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached)."""
        cached = self._metadata
        if cached is not None and (cached.pinned or self._clock() - cached.fetched_at < self.metadata_ttl):
            return dict(cached.value)
        async with self._lock:
            return await self._metadata_locked()

    async def _metadata_locked(self) -> dict[str, Any]:
        cached = self._metadata
        if cached is not None and (cached.pinned or self._clock() - cached.fetched_at < self.metadata_ttl):
            return dict(cached.value)
        try:
            document = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            # OpenID Connect Discovery 1.0 §4.3: the document must name the
            # issuer it was fetched for, or it is someone else's.
            if str(document.get("issuer", "")).rstrip("/") != self.issuer:
                raise IssuerUnavailable("the discovery document names another issuer")
            self._check_url(document.get("jwks_uri"), "jwks_uri")
        except IssuerUnavailable as error:
            if cached is None:
                raise
            log.warning("identity provider discovery failed, keeping the last document: %s", error)
            self._metadata = _Cached(cached.value, self._clock() - self.metadata_ttl + self.refetch_interval)
            return dict(cached.value)
        self._metadata = _Cached(document, self._clock())
        return dict(document)

    async def endpoint(self, name: str) -> str:
        """One of the provider's endpoints (``authorization_endpoint``…)."""
        return self._check_url((await self.metadata()).get(name), name)

    async def _fetch_keys_locked(self) -> KeySet:
        metadata = await self._metadata_locked()
        document = await self._get_json(self._check_url(metadata.get("jwks_uri"), "jwks_uri"))
        usable = [
            key
            for key in document.get("keys", [])
            if isinstance(key, dict) and key.get("kty") in ("RSA", "EC") and key.get("use", "sig") == "sig"
        ]
        try:
            keys = KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError) as error:
            raise IssuerUnavailable(f"the provider's key set cannot be read: {type(error).__name__}") from None
        if self._keys is not None and _thumbprints(self._keys.value) != _thumbprints(keys):
            # A key added, withdrawn or replaced: tokens remembered as
            # verified are checked again against what the provider publishes now.
            self._verified.clear()
        self._keys = _Cached(keys, self._clock())
        return keys

    async def _key_set(self, *, refetch: bool = False) -> KeySet:
        cached = self._keys
        fresh = cached is not None and (cached.pinned or self._clock() - cached.fetched_at < self.jwks_ttl)
        if cached is not None and fresh and not refetch:
            return cached.value  # type: ignore[no-any-return]
        async with self._lock:
            cached = self._keys
            if cached is not None and cached.pinned:
                return cached.value  # type: ignore[no-any-return]
            if cached is not None and not refetch and self._clock() - cached.fetched_at < self.jwks_ttl:
                return cached.value  # type: ignore[no-any-return]  # another request fetched them meanwhile
            recently = self._last_refetch is not None and self._clock() - self._last_refetch < self.refetch_interval
            if refetch and recently:
                assert cached is not None
                return cached.value  # type: ignore[no-any-return]
            # Every attempt counts against the interval, failed ones too: keys
            # fetched a moment ago will not know a kid better now, and a
            # provider that is down is not asked again at once.
            self._last_refetch = self._clock()
            try:
                return await self._fetch_keys_locked()
            except IssuerUnavailable as error:
                if cached is None:
                    raise
                # Keys the provider published a few minutes ago still verify
                # the tokens it signed with them; a provider outage should not
                # sign everybody out. Try again after the refetch interval,
                # not on every request.
                log.warning("identity provider keys could not be refreshed, keeping the last ones: %s", error)
                self._keys = _Cached(cached.value, self._clock() - self.jwks_ttl + self.refetch_interval)
                return cached.value  # type: ignore[no-any-return]

    async def _key_for(self, kid: str | None, alg: str) -> Key:
        keys = await self._key_set()
        found = _find_key(keys, kid, alg)
        if found is None and kid is not None and (self._keys is None or not self._keys.pinned):
            # The provider may have rotated its keys since we fetched them.
            keys = await self._key_set(refetch=True)
            found = _find_key(keys, kid, alg)
        if found is None:
            if kid is None:
                raise TokenRejected("the token names no signing key (kid)")
            raise TokenRejected("the token is signed with a key the issuer does not publish")
        return found

    # --- tokens -------------------------------------------------------------

    def _keys_fresh_for(self) -> float:
        """Seconds the key set in hand stays fresh (pinned keys: for good)."""
        cached = self._keys
        if cached is None:
            return 0.0
        if cached.pinned:
            return VERIFIED_TTL_SECONDS
        return max(0.0, self.jwks_ttl - (self._clock() - cached.fetched_at))

    async def validate(self, token: str) -> dict[str, Any]:
        """The claims of ``token`` if it is a valid access token for Maca.

        A token verified in the last ``VERIFIED_TTL_SECONDS`` is not verified
        again, unless the key set that verified it has since gone stale: the
        key is the whole token, signature included, so any other token (even
        one differing in a single character) is checked in full."""
        now = self._now()
        remembered = self._verified.get(token)
        if remembered is not None:
            claims, until = remembered
            if now < until:
                return dict(claims)
            del self._verified[token]
        claims = await self._validate(token)
        until = min(float(claims["exp"]), now + min(VERIFIED_TTL_SECONDS, self._keys_fresh_for()))
        if now < until:
            self._verified[token] = (dict(claims), until)
            while len(self._verified) > VERIFIED_MAX_TOKENS:
                self._verified.popitem(last=False)
        return claims

    async def _validate(self, token: str) -> dict[str, Any]:
        header = _header_of(token)
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise TokenRejected(f"the token's algorithm is not accepted (only {', '.join(ALGORITHMS)})")
        typ = str(header.get("typ") or "").lower().removeprefix("application/")
        if typ == "at+jwt":
            rfc9068 = True
        elif typ in ("", "jwt") and self.accept_plain_jwt:
            rfc9068 = False
        else:
            raise TokenRejected("the token is not an access token (typ must be at+jwt)")
        claims = await self._verified_claims(token, header, alg)
        required = ["iss", "sub", "aud", "exp", "iat"] + (["client_id", "jti"] if rfc9068 else [])
        self._check_claims(claims, required, audience=self.audience)
        if not rfc9068 and client_of(claims) is None:
            raise TokenRejected("the token names no client (client_id, azp or appid)")
        return claims

    async def validate_id_token(self, token: str, *, client_id: str, nonce: str) -> dict[str, Any]:
        """The claims of an OpenID Connect ID token issued to ``client_id``
        in answer to the sign-in that sent ``nonce``."""
        header = _header_of(token)
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise TokenRejected(f"the ID token's algorithm is not accepted (only {', '.join(ALGORITHMS)})")
        claims = await self._verified_claims(token, header, alg)
        self._check_claims(
            claims,
            ["iss", "sub", "aud", "exp", "iat", "nonce"],
            audience=client_id,
            nonce=nonce,
            audience_setting="OIDC_CLIENT_ID",
        )
        return claims

    async def _verified_claims(self, token: str, header: Mapping[str, Any], alg: str) -> dict[str, Any]:
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenRejected("the token's kid is not text")
        key = await self._key_for(kid, alg)
        try:
            decoded = jwt.decode(token, key, algorithms=[alg])
        except JoseError:
            # The provider may have replaced the key under the same kid:
            # fetch the set again (rate-limited) and try a key that changed.
            renewed = await self._renewed_key(kid, alg, key)
            if renewed is None:
                raise TokenRejected("the token's signature does not verify") from None
            try:
                decoded = jwt.decode(token, renewed, algorithms=[alg])
            except JoseError:
                raise TokenRejected("the token's signature does not verify") from None
        return decoded.claims

    async def _renewed_key(self, kid: str | None, alg: str, tried: Key) -> Key | None:
        """The key of ``kid`` in a key set fetched again, if it differs
        from ``tried``; ``None`` when keys are pinned, were fetched a moment
        ago, or did not change."""
        if kid is None or (self._keys is not None and self._keys.pinned):
            return None
        keys = await self._key_set(refetch=True)
        found = _find_key(keys, kid, alg)
        if found is None or found.thumbprint() == tried.thumbprint():
            return None
        return found

    def _check_claims(
        self,
        claims: dict[str, Any],
        required: Collection[str],
        *,
        audience: str,
        nonce: str | None = None,
        audience_setting: str = "OIDC_AUDIENCE",
    ) -> None:
        options: dict[str, Any] = {name: {"essential": True} for name in required}
        options["iss"] = {"essential": True, "value": self.issuer}
        options["aud"] = {"essential": True, "value": audience}
        if nonce is not None:
            options["nonce"] = {"essential": True, "value": nonce}
        registry = JWTClaimsRegistry(now=lambda: int(self._now()), leeway=LEEWAY_SECONDS, **options)
        # joserfc compares iss exactly; providers differ on a trailing slash.
        checked = dict(claims)
        if isinstance(checked.get("iss"), str):
            checked["iss"] = checked["iss"].rstrip("/")
        try:
            registry.validate(checked)
        except ExpiredTokenError:
            raise TokenExpired("the token has expired") from None
        except MissingClaimError as error:
            raise TokenRejected(f"the token lacks the claim(s) {error.claim}") from None
        except InvalidClaimError as error:
            raise TokenRejected(self._invalid(error.claim, claims, audience, audience_setting)) from None
        except ClaimError:
            raise TokenRejected("the token's claims are not valid") from None

    def _invalid(self, claim: str, claims: Mapping[str, Any], audience: str, setting: str) -> str:
        """Why ``claim`` is refused; for the issuer and the audience, with
        what the token said and what Maca expects (both also logged: a
        refusal for either is nearly always a configuration to put right)."""
        if claim not in ("iss", "aud"):
            return _invalid_claim(claim)
        said = _shown(claims.get(claim))
        if claim == "iss":
            log.warning("refused a token from the issuer %s: OIDC_ISSUER is %r", said, self.issuer)
            return _another_issuer(claims.get("iss"), self.issuer)
        log.warning("refused a token for the audience %s: Maca expects %r (%s)", said, audience, setting)
        return f"the token is for another audience ({said}; Maca expects {audience!r}, {setting})"


def _shown(value: object) -> str:
    """A claim's value as a refusal quotes it: short, and printable only."""
    text = repr(value) if not isinstance(value, list) else repr([str(item)[:100] for item in value[:5]])
    return "".join(c if c.isprintable() else "?" for c in text)[:300]


def _another_issuer(given: Any, expected: str) -> str:
    """Which issuer the token names and which one Maca takes: a development
    token minted for port 8000 and sent to a Maca on 8101 said only "from
    another issuer". The token's signature has verified; its ``iss`` is
    shown as far as it is short printable text."""
    named = given if isinstance(given, str) and len(given) <= 200 and given.isprintable() else None
    said = f"it was issued by {named}" if named else "its issuer is not one Maca names"
    return f"the token is from another issuer: {said}, and this Maca accepts tokens from {expected}"


def _invalid_claim(claim: str) -> str:
    """Why a claim other than the issuer and the audience is refused
    (those two are worded by ``_invalid``, naming what Maca expects)."""
    return {
        "nbf": "the token is not valid yet",
        "iat": "the token was issued in the future",
        "exp": "the token's expiry is not a time",
        "nonce": "the ID token answers another sign-in",
    }.get(claim, f"the token's claim {claim} is not valid")


def _header_of(token: str) -> dict[str, Any]:
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenRejected("the token is too long")
    if token.count(".") != 2:
        raise TokenRejected("the token is not a signed JWT")
    try:
        return dict(jws.extract_compact(token.encode("ascii")).headers())
    except (JoseError, ValueError, TypeError, UnicodeError):
        raise TokenRejected("the token cannot be read") from None


def _thumbprints(keys: KeySet) -> frozenset[str]:
    """The keys of a set by their RFC 7638 thumbprints (kid and all)."""
    return frozenset(f"{key.kid}:{key.thumbprint()}" for key in keys)


def _find_key(keys: KeySet, kid: str | None, alg: str) -> Key | None:
    candidates = [
        key
        for key in keys
        if key.key_type == _KEY_TYPE[alg]
        and key.get("alg") in (None, alg)
        and (kid is None or key.kid == kid)
        and (alg != "ES256" or key.get("crv") == "P-256")
    ]
    if kid is None and len(candidates) != 1:
        # Without a kid only an unambiguous key will do.
        return None
    return candidates[0] if candidates else None
