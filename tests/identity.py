"""Signing in as the demo personas in tests, with real signed tokens.

The development identity provider (``server/auth/dev_idp.py``) signs access
tokens for demo personas with its RS256 key; these helpers mint the same
tokens, and they go through the same validation as production tokens.

Personas (``PERSONAS``), all in the ``demo-partnership``:

=============  =======================  ======================  ===========
persona        organisation             agency kind             role
=============  =======================  ======================  ===========
coordinator    demo-csc                 childrens-social-care   coordinator
social-care    demo-csc                 childrens-social-care   auditor
health         demo-health              health                  auditor
police         demo-police              police                  auditor
education      demo-school              education               auditor
reviewer       demo-partnership-team    childrens-social-care   reviewer
=============  =======================  ======================  ===========

and, for tests only (``EXTRA_PERSONAS``): ``health-2`` (an auditor in
``demo-health-2``, another health trust: for isolation tests) and ``admin``
(role admin, in demo-partnership-team).

Use, against the in-process app (the ``app`` and ``client`` fixtures)::

    from tests.identity import bearer, token_for

    token = await token_for(app, "health")
    response = await client.get("/api/me", headers=bearer(token))

or, for a ready-made set of people (matches ``People`` in
``tests/server/audit_fixtures.py``)::

    people = await signed_in_people(app, client)
    await client.get("/api/audits", headers=people.headers("coordinator"))
    people.organisation_id("health")  # Maca's id for demo-health

``token_for(app, …)`` also tells the app's token validator to trust the
development issuer's keys directly (an in-process app has no port to fetch
its own discovery document from). ``token_for(settings, …)`` only mints: use
it for a ``maca serve`` subprocess that shares ``settings.data_dir`` (the
signing key lives in ``MACA_DATA_DIR/dev-idp-key.json``); that server
fetches its keys over HTTP like any relying party.

Organisations, partnerships and users are recorded on first sight, from the
token: a persona's organisation exists once that persona has made a request
(``signed_in_people`` makes one per persona, ``GET /api/me``).

``token_for(..., **claims)`` overrides claims (``None`` removes one):
``await token_for(app, "health", organisation=None)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from litestar import Litestar

from server.auth.dev_idp import DevIssuer, personas
from server.settings import Settings

PERSONAS: tuple[str, ...] = ("coordinator", "social-care", "health", "police", "education", "reviewer")
EXTRA_PERSONAS: tuple[str, ...] = ("health-2", "admin")
ALL_PERSONAS: tuple[str, ...] = PERSONAS + EXTRA_PERSONAS


def _issuer(target: Litestar | Settings) -> DevIssuer:
    if isinstance(target, Settings):
        return DevIssuer.for_settings(target)
    issuer: DevIssuer | None = target.state.get("dev_issuer")
    if issuer is None:
        raise RuntimeError("this app trusts a real identity provider (OIDC_ISSUER); it has no development issuer")
    target.state.token_validator.trust(issuer.issuer, issuer.public_keys(), issuer.metadata())
    return issuer


async def token_for(target: Litestar | Settings, persona: str, **claims: Any) -> str:
    """A signed access token for ``persona`` (see ``PERSONAS``) from the
    development issuer of ``target`` (an app or the settings of a server)."""
    if persona not in personas():
        raise KeyError(f"no persona {persona!r}; known: {', '.join(personas())}")
    return _issuer(target).access_token(persona, **claims)


def bearer(token: str) -> dict[str, str]:
    """The request headers that present ``token``."""
    return {"Authorization": f"Bearer {token}"}


class SignedInPeople:
    """The personas, each with a token, and Maca's ids for their organisations."""

    def __init__(self, client: Any, tokens: dict[str, str], me: dict[str, dict[str, Any]]) -> None:
        self.client = client
        self.tokens = tokens
        self.me = me  # persona → the GET /api/me body

    def headers(self, persona: str) -> dict[str, str]:
        return bearer(self.tokens[persona])

    def organisation_id(self, persona: str) -> UUID:
        return UUID(self.me[persona]["organisation_id"])

    def user_id(self, persona: str) -> UUID:
        return UUID(self.me[persona]["user_id"])


async def signed_in_people(app: Litestar, client: Any, personas: Iterable[str] = PERSONAS) -> SignedInPeople:
    """Every persona in ``personas`` signed in once (so Maca has recorded
    them and their organisations); ``client`` is the app's test client."""
    tokens: dict[str, str] = {}
    me: dict[str, dict[str, Any]] = {}
    for persona in personas:
        tokens[persona] = await token_for(app, persona)
        response = await client.get("/api/me", headers=bearer(tokens[persona]))
        assert response.status_code == 200, response.text
        me[persona] = response.json()
    return SignedInPeople(client, tokens, me)
