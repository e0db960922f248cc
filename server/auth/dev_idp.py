"""The development identity provider: sign in as a demo persona.

When ``OIDC_ISSUER`` is unset (never in production) Maca is its own OpenID
provider at ``{base_url}/dev-idp``: a discovery document, a key set, an
authorization endpoint that shows a page to pick a persona, and a token
endpoint that exchanges the code (checking PKCE S256) for a signed access
token and ID token. The tokens are real RS256 JWTs and go through the same
validation as a production provider's: the validator fetches this
provider's discovery document and keys over HTTP like any other.

The signing key is generated once into ``MACA_DATA_DIR/dev-idp-key.json``
(mode 0600) and reused, so tokens stay valid across restarts and ``maca
token`` can sign tokens a running server accepts.

Authorization codes are themselves short-lived JWTs signed with the same
key (audience ``…/dev-idp/token``, a ``typ`` no access token has), so every
worker process can redeem a code another one issued.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

import msgspec
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Redirect

from server.auth.claims import ClaimMapping
from server.auth.pages import render
from server.auth.permissions import PUBLIC, needs
from server.auth.principal import Role
from server.db.demo import DEMO_ORGANISATIONS, DEMO_PARTNERSHIP
from server.settings import Settings

log = logging.getLogger("maca.dev_idp")

KEY_FILE: Final = "dev-idp-key.json"
ACCESS_TOKEN_SECONDS: Final = 3600
CODE_SECONDS: Final = 120
CODE_TYPE: Final = "dev-idp-code+jwt"
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


class Persona(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    label: str  # what the sign-in page shows
    name: str  # the token's display name
    organisation: str
    organisation_name: str
    agency_kind: str
    roles: tuple[Role, ...]
    partnership: str = DEMO_PARTNERSHIP[0]
    listed: bool = True  # on the sign-in page's main list

    @property
    def subject(self) -> str:
        return f"dev-{self.code}"

    @property
    def email(self) -> str:
        """Where a persona's mail goes: the catcher of `make run` takes any address."""
        return f"{self.code}@{self.organisation}.example"


_ORGANISATION_NAMES = {code: name for code, name, _kind in DEMO_ORGANISATIONS}


def _persona(code: str, label: str, name: str, organisation: str, kind: str, role: Role, **extra: Any) -> Persona:
    return Persona(
        code=code,
        label=label,
        name=name,
        organisation=organisation,
        organisation_name=extra.pop("organisation_name", None) or _ORGANISATION_NAMES[organisation],
        agency_kind=kind,
        roles=(role,),
        **extra,
    )


PERSONAS: Final[tuple[Persona, ...]] = (
    _persona(
        "coordinator",
        "Coordinator — children's social care",
        "Casey Coordinator",
        "demo-csc",
        "childrens-social-care",
        "coordinator",
    ),
    _persona("health", "Health auditor", "Harper Health", "demo-health", "health", "auditor"),
    _persona("police", "Police auditor", "Parker Police", "demo-police", "police", "auditor"),
    _persona("education", "Education auditor", "Emery Education", "demo-school", "education", "auditor"),
    _persona("social-care", "Social care auditor", "Sam Social-Care", "demo-csc", "childrens-social-care", "auditor"),
    _persona(
        "reviewer",
        "Partnership reviewer",
        "Robin Reviewer",
        "demo-partnership-team",
        "childrens-social-care",
        "reviewer",
    ),
    # For trying out isolation: an auditor of another health trust.
    _persona(
        "health-2",
        "Health auditor of another trust (for isolation tests)",
        "Hayden Health-Two",
        "demo-health-2",
        "health",
        "auditor",
        organisation_name="Demo Community Health Trust",
        listed=False,
    ),
    _persona(
        "admin",
        "Partnership administrator",
        "Ash Admin",
        "demo-partnership-team",
        "childrens-social-care",
        "admin",
        listed=False,
    ),
)


def personas() -> dict[str, Persona]:
    return {persona.code: persona for persona in PERSONAS}


class DevIdpError(Exception):
    """An OAuth error (RFC 6749 §5.2 code) and its description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def load_or_create_key(path: Path) -> RSAKey:
    """The signing key in ``path``, generated there (mode 0600) on first use.

    Several workers may start together: each writes a private temporary file
    and links it into place; the first link wins and everyone reads it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True, auto_kid=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(key.as_dict(private=True), file)
            with contextlib.suppress(FileExistsError):  # another worker's key won
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    elif path.stat().st_mode & 0o077:
        log.warning("%s was readable by others; making it private", path)
        path.chmod(0o600)
    data = json.loads(path.read_text(encoding="utf-8"))
    return RSAKey.import_key(data)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _put(claims: dict[str, Any], path: str, value: Any) -> None:
    """Set a (possibly dotted) claim, the way a provider's mapper would."""
    *parents, last = path.split(".")
    target = claims
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


class DevIssuer:
    """Signs tokens for the demo personas."""

    def __init__(self, settings: Settings, key: RSAKey) -> None:
        if not settings.uses_dev_issuer:
            raise ValueError("the development issuer is only for settings without OIDC_ISSUER")
        self.issuer = settings.issuer
        self.audience = settings.oidc_audience
        self.client_id = settings.oidc_client_id
        self.callback = f"{settings.base_url}/auth/callback"
        self.mapping = ClaimMapping.from_settings(settings)
        self._key = key
        self._redeemed: dict[str, float] = {}

    @classmethod
    def for_settings(cls, settings: Settings) -> DevIssuer:
        return cls(settings, load_or_create_key(settings.data_path / KEY_FILE))

    @property
    def kid(self) -> str:
        kid = self._key.kid
        assert kid is not None
        return kid

    def public_keys(self) -> KeySet:
        return KeySet([RSAKey.import_key(self._key.as_dict(private=False))])

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile"],
        }

    def _sign(self, claims: dict[str, Any], typ: str) -> str:
        header = {"alg": "RS256", "kid": self.kid, "typ": typ}
        return jwt.encode(header, claims, self._key, algorithms=["RS256"])

    def access_token(self, persona: str, *, scope: str = "openid profile", **overrides: Any) -> str:
        """An RFC 9068 access token for ``persona``; ``overrides`` replace
        claims (``None`` removes one)."""
        who = personas()[persona]
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": who.subject,
            "aud": self.audience,
            "client_id": self.client_id,
            "iat": now,
            "nbf": now,
            "exp": now + ACCESS_TOKEN_SECONDS,
            "jti": secrets.token_urlsafe(16),
            "scope": scope,
        }
        _put(claims, self.mapping.name, who.name)
        _put(claims, self.mapping.organisation, who.organisation)
        _put(claims, self.mapping.organisation_name, who.organisation_name)
        _put(claims, self.mapping.agency_kind, who.agency_kind)
        _put(claims, self.mapping.partnership, who.partnership)
        _put(claims, self.mapping.roles, list(who.roles))
        claims["email"] = who.email
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return self._sign(claims, "at+jwt")

    def id_token(self, persona: str, *, nonce: str) -> str:
        who = personas()[persona]
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": who.subject,
            "aud": self.client_id,
            "iat": now,
            "exp": now + ACCESS_TOKEN_SECONDS,
            "nonce": nonce,
            "name": who.name,
            "email": who.email,
        }
        return self._sign(claims, "JWT")

    # --- the authorization code flow ----------------------------------------

    def check_authorization_request(self, params: dict[str, str]) -> None:
        """Refuse what a real provider would refuse before showing its page.
        The redirect URI must be Maca's own callback (never redirect to an
        unchecked address)."""
        if params.get("client_id") != self.client_id:
            raise DevIdpError("unauthorized_client", "unknown client_id")
        if params.get("redirect_uri") != self.callback:
            raise DevIdpError("invalid_request", f"redirect_uri must be {self.callback}")
        if params.get("response_type") != "code":
            raise DevIdpError("unsupported_response_type", "only response_type=code")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            raise DevIdpError("invalid_request", "PKCE with code_challenge_method=S256 is required")

    def authorization_code(self, persona: str, params: dict[str, str]) -> str:
        self.check_authorization_request(params)
        if persona not in personas():
            raise DevIdpError("invalid_request", "choose one of the personas")
        now = int(time.time())
        return self._sign(
            {
                "iss": self.issuer,
                "aud": f"{self.issuer}/token",
                "sub": persona,
                "iat": now,
                "exp": now + CODE_SECONDS,
                "jti": secrets.token_urlsafe(16),
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "code_challenge": params["code_challenge"],
                "nonce": params.get("nonce", ""),
                "scope": params.get("scope", "openid"),
            },
            CODE_TYPE,
        )

    def redeem(self, form: dict[str, str]) -> dict[str, Any]:
        """The token response for an authorization code (RFC 6749 §4.1.3),
        with PKCE (RFC 7636 §4.6)."""
        if form.get("grant_type") != "authorization_code":
            raise DevIdpError("unsupported_grant_type", "only authorization_code")
        try:
            decoded = jwt.decode(form.get("code", ""), self._key, algorithms=["RS256"])
        except (JoseError, ValueError):
            raise DevIdpError("invalid_grant", "the code is not one this provider issued") from None
        code = decoded.claims
        now = time.time()
        if decoded.header.get("typ") != CODE_TYPE or code.get("aud") != f"{self.issuer}/token":
            raise DevIdpError("invalid_grant", "the code is not one this provider issued")
        if code.get("exp", 0) < now:
            raise DevIdpError("invalid_grant", "the code has expired")
        self._redeemed = {jti: until for jti, until in self._redeemed.items() if until > now}
        if code["jti"] in self._redeemed:
            raise DevIdpError("invalid_grant", "the code has been used")
        client = form.get("client_id") or code["client_id"]
        if client != code["client_id"] or form.get("redirect_uri") != code["redirect_uri"]:
            raise DevIdpError("invalid_grant", "client_id or redirect_uri differ from the authorization request")
        verifier = form.get("code_verifier", "")
        if not _VERIFIER.match(verifier) or not secrets.compare_digest(_s256(verifier), code["code_challenge"]):
            raise DevIdpError("invalid_grant", "the code_verifier does not match the code_challenge")
        self._redeemed[code["jti"]] = float(code["exp"])
        persona = code["sub"]
        response: dict[str, Any] = {
            "access_token": self.access_token(persona, scope=code["scope"]),
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": code["scope"],
        }
        if "openid" in code["scope"].split():
            response["id_token"] = self.id_token(persona, nonce=code["nonce"])
        return response


_AUTHORIZE_PARAMS = ("client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method")
_FORWARDED = (*_AUTHORIZE_PARAMS, "nonce", "scope")


def _issuer_of(state: State) -> DevIssuer:
    issuer: DevIssuer = state.dev_issuer
    return issuer


class DevIdpController(Controller):
    """The development provider's endpoints (all public, none in the API
    documentation)."""

    path = "/dev-idp"
    include_in_schema = False

    @get("/.well-known/openid-configuration", cache=False, opt=needs(PUBLIC))
    async def discovery(self, state: State) -> dict[str, Any]:
        return _issuer_of(state).metadata()

    @get("/jwks", cache=False, opt=needs(PUBLIC))
    async def jwks(self, state: State) -> dict[str, Any]:
        return dict(_issuer_of(state).public_keys().as_dict())

    @get("/authorize", opt=needs(PUBLIC))
    async def authorize_page(self, request: Request[Any, Any, Any], state: State) -> Response[str]:
        params = {name: value for name, value in request.query_params.items() if name in _FORWARDED}
        try:
            _issuer_of(state).check_authorization_request(params)
        except DevIdpError as error:
            return render("auth/dev_idp_error.html", status_code=400, error=error.error, description=error.description)
        return render(
            "auth/dev_sign_in.html",
            params=params,
            listed=[p for p in PERSONAS if p.listed],
            others=[p for p in PERSONAS if not p.listed],
        )

    @post("/authorize", status_code=303, opt=needs(PUBLIC))
    async def authorize(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        form = {name: str(value) for name, value in (await request.form()).items()}
        params = {name: form[name] for name in _FORWARDED if name in form}
        issuer = _issuer_of(state)
        try:
            code = issuer.authorization_code(form.get("persona", ""), params)
        except DevIdpError as error:
            return render("auth/dev_idp_error.html", status_code=400, error=error.error, description=error.description)
        answer = {"code": code}
        if params.get("state"):
            answer["state"] = params["state"]
        return Redirect(f"{params['redirect_uri']}?{urlencode(answer)}", status_code=303)

    @post("/token", status_code=200, opt=needs(PUBLIC))
    async def token(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        form = {name: str(value) for name, value in (await request.form()).items()}
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            body = _issuer_of(state).redeem(form)
        except DevIdpError as error:
            return Response(
                {"error": error.error, "error_description": error.description}, status_code=400, headers=no_store
            )
        return Response(body, status_code=200, headers=no_store)
