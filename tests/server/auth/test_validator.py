"""The token validator against a real OpenID provider over HTTP: discovery
and key set fetched once and cached, fetched again when a token names a key
Maca does not hold (at most once per 30 s) and when the cache expires; the
two shapes of access token providers issue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from joserfc.jwk import ECKey

from server.auth.tokens import LEEWAY_SECONDS, IssuerUnavailable, TokenRejected, TokenValidator
from tests.server.auth.issuers import Issuer, an_issuer, rsa_key

DISCOVERY = "/.well-known/openid-configuration"
JWKS = "/jwks"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with an_issuer() as issuer:
        yield issuer


@pytest.fixture
def clock() -> Clock:
    return Clock()


def validator_for(issuer: Issuer, clock: Clock, **options: Any) -> TokenValidator:
    return TokenValidator(issuer=issuer.url, audience="maca", allow_http=True, clock=clock, **options)


async def test_discovery_and_keys_are_fetched_once_for_many_tokens(issuer: Issuer, clock: Clock) -> None:
    validator = validator_for(issuer, clock)
    for subject in ("a", "b", "c"):
        claims = await validator.validate(issuer.sign(issuer.claims(sub=subject)))
        assert claims["sub"] == subject
    assert (issuer.fetches[DISCOVERY], issuer.fetches[JWKS]) == (1, 1)
    await validator.aclose()


async def test_a_rotated_key_is_fetched_when_a_token_names_it(issuer: Issuer, clock: Clock) -> None:
    validator = validator_for(issuer, clock)
    await validator.validate(issuer.sign(issuer.claims()))
    clock.now += 31
    new_key = issuer.rotate("rsa-2")

    claims = await validator.validate(issuer.sign(issuer.claims(), key=new_key))

    assert claims["sub"] == "user-1"
    assert issuer.fetches[JWKS] == 2
    await validator.aclose()


async def test_unknown_kids_refetch_at_most_once_per_30_seconds(issuer: Issuer, clock: Clock) -> None:
    validator = validator_for(issuer, clock)
    await validator.validate(issuer.sign(issuer.claims()))
    with pytest.raises(TokenRejected):  # keys fetched a moment ago are not fetched again
        await validator.validate(issuer.sign(issuer.claims(), kid="invented"))
    assert issuer.fetches[JWKS] == 1
    clock.now += 31

    for attempt in range(5):
        with pytest.raises(TokenRejected, match="a key the issuer does not publish"):
            await validator.validate(issuer.sign(issuer.claims(), kid=f"invented-{attempt}"))
        clock.now += 5
    assert issuer.fetches[JWKS] == 2  # the first fetch, and one refetch for all five

    # A key published meanwhile is found once the interval has passed.
    rotated = issuer.rotate("rsa-3")
    with pytest.raises(TokenRejected):
        await validator.validate(issuer.sign(issuer.claims(), key=rotated))
    clock.now += 30
    assert (await validator.validate(issuer.sign(issuer.claims(), key=rotated)))["sub"] == "user-1"
    assert issuer.fetches[JWKS] == 3
    await validator.aclose()


async def test_the_key_set_is_fetched_again_when_its_time_is_up(issuer: Issuer, clock: Clock) -> None:
    validator = validator_for(issuer, clock, jwks_ttl=600, metadata_ttl=3600)
    await validator.validate(issuer.sign(issuer.claims()))
    clock.now += 599
    await validator.validate(issuer.sign(issuer.claims()))
    assert issuer.fetches[JWKS] == 1
    clock.now += 2
    await validator.validate(issuer.sign(issuer.claims()))
    assert (issuer.fetches[DISCOVERY], issuer.fetches[JWKS]) == (1, 2)
    clock.now += 3600
    await validator.validate(issuer.sign(issuer.claims()))
    assert (issuer.fetches[DISCOVERY], issuer.fetches[JWKS]) == (2, 3)
    await validator.aclose()


async def test_known_keys_keep_working_while_the_provider_is_down(issuer: Issuer, clock: Clock) -> None:
    validator = validator_for(issuer, clock)
    await validator.validate(issuer.sign(issuer.claims()))
    issuer.down = True
    clock.now += 4000
    assert (await validator.validate(issuer.sign(issuer.claims())))["sub"] == "user-1"
    asked = sum(issuer.fetches.values())
    for _ in range(5):  # not asked again on every request while it is down
        assert (await validator.validate(issuer.sign(issuer.claims())))["sub"] == "user-1"
        clock.now += 1
    assert sum(issuer.fetches.values()) == asked
    issuer.down = False
    clock.now += 30
    await validator.validate(issuer.sign(issuer.claims()))
    assert sum(issuer.fetches.values()) > asked  # and asked again once the interval has passed
    await validator.aclose()


async def test_a_provider_that_never_answered_is_unavailable_not_a_bad_token(issuer: Issuer, clock: Clock) -> None:
    issuer.down = True
    validator = validator_for(issuer, clock)
    with pytest.raises(IssuerUnavailable):
        await validator.validate(issuer.sign(issuer.claims()))
    await validator.aclose()


async def test_a_discovery_document_for_another_issuer_is_not_trusted(issuer: Issuer, clock: Clock) -> None:
    validator = TokenValidator(issuer=f"{issuer.url}/realms/maca", audience="maca", allow_http=True, clock=clock)
    with pytest.raises(IssuerUnavailable):
        await validator.metadata()
    await validator.aclose()


async def test_http_key_urls_are_refused_unless_allowed(issuer: Issuer, clock: Clock) -> None:
    validator = TokenValidator(issuer=issuer.url, audience="maca", clock=clock)
    with pytest.raises(IssuerUnavailable, match="https"):
        await validator.validate(issuer.sign(issuer.claims()))
    await validator.aclose()


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
async def test_rsa_algorithms_on_the_allow_list_verify(issuer: Issuer, clock: Clock, alg: str) -> None:
    validator = validator_for(issuer, clock)
    assert (await validator.validate(issuer.sign(issuer.claims(), alg=alg)))["sub"] == "user-1"
    await validator.aclose()


async def test_es256_verifies_with_the_ec_key(issuer: Issuer, clock: Clock) -> None:
    validator = validator_for(issuer, clock)
    ec = next(key for key in issuer.keys if isinstance(key, ECKey))
    assert (await validator.validate(issuer.sign(issuer.claims(), key=ec, alg="ES256")))["sub"] == "user-1"
    await validator.aclose()


async def test_an_algorithm_with_the_wrong_kind_of_key_is_refused(issuer: Issuer, clock: Clock) -> None:
    # An ES256 header naming the RSA key's kid: no RSA key verifies ES256.
    validator = validator_for(issuer, clock)
    ec = next(key for key in issuer.keys if isinstance(key, ECKey))
    token = issuer.sign(issuer.claims(), key=ec, alg="ES256", kid="rsa-1")
    with pytest.raises(TokenRejected, match="does not publish"):
        await validator.validate(token)
    await validator.aclose()


async def test_a_token_without_kid_uses_the_only_key_that_fits(issuer: Issuer, clock: Clock) -> None:
    issuer.keys = [rsa_key("only")]
    validator = validator_for(issuer, clock)
    assert (await validator.validate(issuer.sign(issuer.claims(), kid=None)))["sub"] == "user-1"
    issuer.rotate("second")
    clock.now += 700
    with pytest.raises(TokenRejected, match="names no signing key"):
        await validator.validate(issuer.sign(issuer.claims(), kid=None))
    await validator.aclose()


# --- the two shapes of access token ------------------------------------------------


async def test_an_rfc_9068_token_needs_client_id_and_jti(issuer: Issuer, clock: Clock) -> None:
    validator = validator_for(issuer, clock)
    assert (await validator.validate(issuer.sign(issuer.claims(), typ="at+jwt")))["client_id"] == "health-records"
    assert (await validator.validate(issuer.sign(issuer.claims(), typ="application/at+jwt")))["sub"] == "user-1"
    for missing in ("client_id", "jti"):
        with pytest.raises(TokenRejected, match=f"lacks the claim\\(s\\) {missing}"):
            await validator.validate(issuer.sign(issuer.claims(**{missing: None}), typ="at+jwt"))
    await validator.aclose()


def keycloak_claims(issuer: Issuer, **overrides: Any) -> dict[str, Any]:
    """What Keycloak puts in an access token: typ JWT, azp for the client,
    realm roles nested under realm_access, no client_id."""
    claims = issuer.claims(client_id=None, jti=None, roles=None, nbf=None)
    claims.update(
        {
            "azp": "maca-web",
            "typ": "Bearer",
            "realm_access": {"roles": ["auditor", "offline_access", "uma_authorization"]},
            "preferred_username": "avery",
            "scope": "openid profile",
        }
    )
    claims.update(overrides)
    return claims


async def test_a_keycloak_shaped_token_is_accepted_when_plain_jwts_are(issuer: Issuer, clock: Clock) -> None:
    validator = validator_for(issuer, clock, accept_plain_jwt=True)
    claims = await validator.validate(issuer.sign(keycloak_claims(issuer), typ="JWT"))
    assert claims["azp"] == "maca-web"
    # No typ header at all is a plain JWT too (some providers omit it).
    assert (await validator.validate(issuer.sign(keycloak_claims(issuer), typ=None)))["sub"] == "user-1"
    # An Entra ID v1 token names its client in appid.
    entra = keycloak_claims(issuer, azp=None)
    entra.pop("azp")
    entra["appid"] = "11111111-2222-3333-4444-555555555555"
    assert (await validator.validate(issuer.sign(entra, typ="JWT")))["appid"].startswith("1111")
    await validator.aclose()


async def test_a_plain_jwt_must_still_name_its_client(issuer: Issuer, clock: Clock) -> None:
    validator = validator_for(issuer, clock, accept_plain_jwt=True)
    claims = keycloak_claims(issuer)
    claims.pop("azp")
    with pytest.raises(TokenRejected, match="names no client"):
        await validator.validate(issuer.sign(claims, typ="JWT"))
    await validator.aclose()


async def test_plain_jwts_are_refused_when_not_configured(issuer: Issuer, clock: Clock) -> None:
    validator = validator_for(issuer, clock, accept_plain_jwt=False)
    with pytest.raises(TokenRejected, match="typ must be at\\+jwt"):
        await validator.validate(issuer.sign(keycloak_claims(issuer), typ="JWT"))
    assert (await validator.validate(issuer.sign(issuer.claims(), typ="at+jwt")))["sub"] == "user-1"
    await validator.aclose()


async def test_an_audience_list_containing_maca_is_accepted(issuer: Issuer, clock: Clock) -> None:
    validator = validator_for(issuer, clock)
    assert (await validator.validate(issuer.sign(issuer.claims(aud=["account", "maca"]))))["sub"] == "user-1"
    with pytest.raises(TokenRejected, match="another audience"):
        await validator.validate(issuer.sign(issuer.claims(aud=["account"])))
    await validator.aclose()


async def test_an_id_token_is_checked_for_its_client_and_nonce(issuer: Issuer, clock: Clock) -> None:
    validator = validator_for(issuer, clock)
    id_token = issuer.sign(issuer.claims(aud="maca-web", nonce="n-1"), typ="JWT")
    assert (await validator.validate_id_token(id_token, client_id="maca-web", nonce="n-1"))["sub"] == "user-1"
    with pytest.raises(TokenRejected, match="answers another sign-in"):
        await validator.validate_id_token(id_token, client_id="maca-web", nonce="n-2")
    with pytest.raises(TokenRejected, match="another audience"):
        await validator.validate_id_token(id_token, client_id="other-client", nonce="n-1")
    await validator.aclose()


# --- verified tokens remembered (issue 10: one signature check per client's run of requests) ---


class WallClock:
    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def test_a_remembered_token_still_expires(issuer: Issuer, clock: Clock) -> None:
    wall = WallClock()
    validator = validator_for(issuer, clock, now=wall)
    token = issuer.sign(issuer.claims())  # expires in 300 s
    assert (await validator.validate(token))["sub"] == "user-1"
    wall.now += 30
    assert (await validator.validate(token))["sub"] == "user-1"

    wall.now += 300 + LEEWAY_SECONDS
    with pytest.raises(TokenRejected, match="expired"):
        await validator.validate(token)
    await validator.aclose()


async def test_a_token_differing_from_a_remembered_one_is_checked_in_full(issuer: Issuer, clock: Clock) -> None:
    validator = validator_for(issuer, clock)
    token = issuer.sign(issuer.claims())
    await validator.validate(token)
    head, body, signature = token.split(".")
    forged_signature = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    with pytest.raises(TokenRejected, match="signature"):
        await validator.validate(f"{head}.{body}.{forged_signature}")
    await validator.aclose()


async def test_a_withdrawn_key_stops_being_honoured_once_the_memory_lapses(issuer: Issuer, clock: Clock) -> None:
    wall = WallClock()
    validator = validator_for(issuer, clock, now=wall, jwks_ttl=30)
    token = issuer.sign(issuer.claims())
    await validator.validate(token)
    first = issuer.keys[0]
    issuer.rotate("rsa-2")
    issuer.keys.remove(first)  # the key that signed the token is no longer published
    clock.now += 31
    wall.now += 10
    # Within the memory's minute the token is not checked again, not even
    # against the new key set …
    assert (await validator.validate(token))["sub"] == "user-1"
    assert issuer.fetches[JWKS] == 1
    # … after it, it is, and the withdrawn key is not found.
    wall.now += 51
    with pytest.raises(TokenRejected, match="does not publish"):
        await validator.validate(token)
    assert issuer.fetches[JWKS] == 2
    await validator.aclose()
