"""Reading who someone is from their token's claims, through the claim
mapping (README "Signing in")."""

from __future__ import annotations

from typing import Any

import pytest

from agencies.organisations import InvalidOrganisation, Organisation, organisation
from server.auth.claims import ClaimMapping, ClaimsRejected, claim_at, identity_from_claims
from server.settings import SettingsError, load_settings

BASE: dict[str, Any] = {
    "iss": "https://idp.example.org",
    "sub": "s-1",
    "name": "Avery Auditor",
    "organisation": "trust-1",
    "agency_kind": "health",
    "partnership": "p-1",
    "roles": ["auditor"],
    "client_id": "maca-web",
}


def identity(mapping: ClaimMapping | None = None, **changes: Any) -> Any:
    claims = {**BASE, **changes}
    return identity_from_claims({k: v for k, v in claims.items() if v is not None}, mapping or ClaimMapping())


def test_the_default_mapping_reads_the_documented_claims() -> None:
    who = identity()
    assert (who.organisation_code, who.agency_kind, who.partnership_code, who.display_name) == (
        "trust-1",
        "health",
        "p-1",
        "Avery Auditor",
    )
    assert who.roles == {"auditor"} and who.is_machine_client is False


def test_the_mapping_comes_from_the_environment() -> None:
    settings = load_settings(
        {
            "OIDC_CLAIM_ORGANISATION": "ods_code",
            "OIDC_CLAIM_AGENCY_KIND": "agency",
            "OIDC_CLAIM_PARTNERSHIP": "lscp",
            "OIDC_CLAIM_ROLES": "realm_access.roles",
            "OIDC_CLAIM_NAME": "display",
            "OIDC_ROLE_SCOPE_PREFIX": "maca:",
            "OIDC_ROLE_MAP": "audit:contribute=auditor, audit:coordinate=coordinator",
            "OIDC_DEFAULT_PARTNERSHIP": "lscp-north",
        }
    )
    assert ClaimMapping.from_settings(settings) == ClaimMapping(
        organisation="ods_code",
        agency_kind="agency",
        partnership="lscp",
        roles="realm_access.roles",
        name="display",
        role_scope_prefix="maca:",
        role_map=(("audit:contribute", "auditor"), ("audit:coordinate", "coordinator")),
        default_partnership="lscp-north",
    )


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("OIDC_ROLE_MAP", "audit:contribute", "'audit:contribute' is not value=role"),
        ("OIDC_ROLE_MAP", "=auditor", "'=auditor' is not value=role"),
        ("OIDC_ROLE_MAP", "a=auditor,a=reviewer", "'a' is mapped twice"),
        ("OIDC_DEFAULT_PARTNERSHIP", "two words", "a partnership code is"),
    ],
)
def test_a_role_map_or_default_partnership_that_cannot_be_used_stops_maca(variable: str, value: str, said: str) -> None:
    with pytest.raises(SettingsError, match=said) as raised:
        load_settings({variable: value})
    assert raised.value.variable == variable


def test_a_role_map_naming_a_role_maca_does_not_have_stops_maca() -> None:
    settings = load_settings({"OIDC_ROLE_MAP": "audit:contribute=contributor"})
    with pytest.raises(SettingsError, match=r"'contributor' \(for 'audit:contribute'\) is not one of Maca's roles"):
        ClaimMapping.from_settings(settings)


def test_claim_values_and_scopes_give_roles_through_the_role_map() -> None:
    """A provider whose roles are not called as Maca's: a scope granted to an
    agency's system, a group a person is in, each mapped by OIDC_ROLE_MAP."""
    mapping = ClaimMapping(
        roles="groups",
        role_map=(("audit:contribute", "auditor"), ("audit:coordinate", "coordinator"), ("lscp-admins", "admin")),
    )
    assert identity(mapping, roles=None, scope="openid audit:contribute").roles == {"auditor"}
    assert identity(mapping, roles=None, scp=["audit:coordinate"]).roles == {"coordinator"}
    assert identity(mapping, roles=None, groups=["lscp-admins", "staff"]).roles == {"admin"}
    assert identity(mapping, roles=None, groups="reviewer", scope="audit:unknown").roles == {"reviewer"}
    assert identity(mapping, roles=None, scope="openid profile").roles == set()


@pytest.mark.parametrize(
    ("roles_claim", "expected"),
    [
        (["auditor", "offline_access"], {"auditor"}),
        ("coordinator reviewer", {"coordinator", "reviewer"}),
        (["Coordinator"], {"coordinator"}),
        ([], set()),
        (None, set()),
        (42, set()),
    ],
)
def test_roles_are_the_known_names_in_a_list_or_a_string(roles_claim: Any, expected: set[str]) -> None:
    assert identity(roles=roles_claim).roles == expected


def test_roles_can_live_in_a_nested_claim() -> None:
    mapping = ClaimMapping(roles="realm_access.roles")
    who = identity(mapping, roles=None, realm_access={"roles": ["reviewer", "uma_authorization"]})
    assert who.roles == {"reviewer"}


def test_a_claim_named_with_dots_is_found_before_a_path() -> None:
    assert claim_at({"https://maca/roles": ["x"]}, "https://maca/roles") == ["x"]
    assert claim_at({"a": {"b": {"c": 1}}}, "a.b.c") == 1
    assert claim_at({"a": {"b": 1}}, "a.b.c") is None


def test_scopes_with_the_prefix_grant_roles_when_configured() -> None:
    assert identity(roles=None, scope="openid maca:auditor maca:wizard").roles == set()
    with_prefix = ClaimMapping(role_scope_prefix="maca:")
    assert identity(with_prefix, roles=None, scope="openid maca:auditor maca:wizard").roles == {"auditor"}
    assert identity(with_prefix, roles=["reviewer"], scp="maca:coordinator").roles == {"reviewer", "coordinator"}


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"organisation": ["a", "b"]}, "must be a single text value"),
        ({"organisation": "has spaces in it"}, "not a usable organisation code"),
        ({"agency_kind": "wizards"}, "names no agency kind Maca knows"),
        ({"partnership": "p 1"}, "not a usable partnership code"),
        ({"sub": None}, "names no subject"),
    ],
)
def test_what_maca_cannot_act_on_is_refused_naming_the_claim(changes: dict[str, Any], said: str) -> None:
    with pytest.raises(ClaimsRejected, match=said.replace("(", r"\(").replace(")", r"\)")):
        identity(**changes)


def test_a_one_element_list_is_read_as_its_element() -> None:
    assert identity(organisation=["trust-1"]).organisation_code == "trust-1"


@pytest.mark.parametrize("absent", [None, ""])
def test_a_token_may_leave_the_organisation_to_its_clients_registration(absent: str | None) -> None:
    """Whether that is enough is decided when the bearer is recorded (a
    registered agency's system may; a person may not): test_providers.py."""
    assert identity(organisation=absent).organisation_code is None


@pytest.mark.parametrize(
    ("changes", "machine"),
    [
        ({}, False),
        ({"name": None, "preferred_username": "avery"}, False),
        ({"name": None, "sub": "maca-web"}, True),  # RFC 9068 client credentials
        ({"name": None, "client_id": None, "azp": "records", "preferred_username": "service-account-records"}, True),
        ({"name": None, "client_id": None, "appid": "records", "idtyp": "app"}, True),  # Entra ID
        ({"name": None}, True),  # a client, and no sign of a person
        ({"name": None, "client_id": None}, False),
    ],
)
def test_machine_clients_are_recognised(changes: dict[str, Any], machine: bool) -> None:
    who = identity(**changes)
    assert who.is_machine_client is machine
    if machine:
        assert who.display_name == who.client_id


def test_an_organisation_has_a_usable_code_and_a_known_agency_kind() -> None:
    assert organisation("RX1", " ", "health") == Organisation(code="RX1", name="RX1", agency_kind="health")
    with pytest.raises(InvalidOrganisation, match="a code is"):
        organisation("two words", "Trust", "health")
    with pytest.raises(InvalidOrganisation, match="not an agency kind"):
        organisation("rx1", "Trust", "wizards")
