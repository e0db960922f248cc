"""The partnership's administrator keeps its register of organisations:
registered before anyone from them signs in, confirmed when first recorded
at a sign-in, corrected with a reason when recorded wrongly — and a token
is judged against the corrected record at once."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.identity import ALL_PERSONAS, SignedInPeople, bearer, signed_in_people
from tests.server.admin.builders import as_admin, me, register, token_as, trail
from tests.server.audit_fixtures import CASE_DETAILS, request


@pytest.fixture
async def people(app: Litestar, client: AsyncTestClient[Litestar]) -> SignedInPeople:
    return await signed_in_people(app, client, ALL_PERSONAS)


async def test_an_organisation_registered_before_anyone_signs_in_needs_its_tokens_name_only_it(
    app: Litestar, people: SignedInPeople
) -> None:
    registered = await register(
        people,
        "RX1",
        "Riverside Hospital",
        "health",
        lead=("Sam Lead", "sam.lead@riverside.nhs.uk"),
        audit_contacts=["audits@riverside.nhs.uk"],
    )
    assert (registered["needs_confirmation"], registered["active"], registered["agency_kind_name"]) == (
        False,
        True,
        "Health",
    )
    assert registered["safeguarding_lead"] == {"name": "Sam Lead", "email": "sam.lead@riverside.nhs.uk"}

    answer = await me(people, await token_as(app, "RX1"))

    assert answer.status_code == 200, answer.text
    who = answer.json()
    assert (who["organisation_code"], who["organisation_name"], who["agency_kind"]) == (
        "RX1",
        "Riverside Hospital",
        "health",
    )
    # Recorded from the personas' tokens, the partnership is named by its code.
    assert (who["partnership_code"], who["partnership_name"]) == ("demo-partnership", "demo-partnership")


async def test_an_organisation_first_seen_at_a_sign_in_waits_for_the_administrator_to_confirm_it(
    app: Litestar, people: SignedInPeople
) -> None:
    first = await me(people, await token_as(app, "SCH9", agency_kind="education", partnership="demo-partnership"))
    assert first.status_code == 200, first.text

    await register(people, "RX12", "Registered First", "health")
    register_ = (await as_admin(people, "GET", "/api/admin/organisations")).json()
    flags = [o["needs_confirmation"] for o in register_]
    assert flags == sorted(flags, reverse=True), "those waiting come first"
    # The personas' organisations too were first seen at their sign-ins.
    [school] = [o for o in register_ if o["code"] == "SCH9"]
    assert (school["needs_confirmation"], school["agency_kind"], school["people"]) == (True, "education", 1)
    assert [o["needs_confirmation"] for o in register_ if o["code"] == "RX12"] == [False]

    confirmed = await as_admin(
        people, "POST", f"/api/admin/organisations/{school['id']}/confirm", version=school["row_version"]
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["needs_confirmation"] is False
    assert [e["action"] for e in await trail(people, school["id"])] == ["organisation.confirmed"]


async def test_a_wrongly_bound_organisation_is_corrected_and_its_next_token_is_accepted(
    app: Litestar, people: SignedInPeople
) -> None:
    """Done when: "A wrongly-bound organisation is corrected by the
    administrator and its next token is accepted; the correction is in the
    event trail." A test token recorded RX2 as health; it is a police force."""
    assert (
        await me(people, await token_as(app, "RX2", agency_kind="health", partnership="demo-partnership"))
    ).is_success
    right = await token_as(app, "RX2", agency_kind="police")

    refused = await me(people, right)
    assert refused.status_code == 401
    assert refused.json()["detail"] == (
        "the agency kind claim 'agency_kind' says 'police', but Maca has recorded 'RX2' as 'health'; "
        "an administrator can correct the organisation's record in Maca"
    )

    [recorded] = [o for o in (await as_admin(people, "GET", "/api/admin/organisations")).json() if o["code"] == "RX2"]
    corrected = await as_admin(
        people,
        "POST",
        f"/api/admin/organisations/{recorded['id']}/corrections",
        json={"agency_kind": "police", "reason": "A test token named the wrong agency kind"},
        version=recorded["row_version"],
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["agency_kind"] == "police"

    accepted = await me(people, right)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["agency_kind"] == "police"
    [entry] = [e for e in await trail(people) if e["action"] == "organisation.corrected"]
    assert (entry["organisation_code"], entry["by"], entry["detail"]) == (
        "RX2",
        "Ash Admin",
        {"agency_kind": {"from": "health", "to": "police"}, "reason": "A test token named the wrong agency kind"},
    )


async def test_audits_keep_the_agency_kind_an_organisation_took_part_as(app: Litestar, people: SignedInPeople) -> None:
    """ "Existing audits keep what they were created with": the questions the
    organisation was given do not change under it; a new audit asks it as
    what it is now."""
    await register(people, "RX3", "Riverside Trust", "health")
    before = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={"toolkit": "multi-agency-cp", "participants": ["RX3"], "case_details": CASE_DETAILS},
    )
    assert before.status_code == 201, before.text
    [organisation] = [
        o for o in (await as_admin(people, "GET", "/api/admin/organisations")).json() if o["code"] == "RX3"
    ]
    corrected = await as_admin(
        people,
        "POST",
        f"/api/admin/organisations/{organisation['id']}/corrections",
        json={"agency_kind": "police", "reason": "It is the police force's safeguarding hub"},
        version=organisation["row_version"],
    )
    assert corrected.status_code == 200, corrected.text
    after = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={"toolkit": "multi-agency-cp", "participants": ["RX3"], "case_details": CASE_DETAILS},
    )

    async def kind_in(audit: dict[str, Any]) -> str:
        read = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}")
        [participant] = read.json()["participants"]
        kind: str = participant["agency_kind"]
        return kind

    assert (await kind_in(before.json()), await kind_in(after.json())) == ("health", "police")


async def test_an_organisation_recorded_in_the_wrong_partnership_is_moved_here_with_a_reason(
    app: Litestar, people: SignedInPeople, db: asyncpg.Connection[Any]
) -> None:
    """A test token named a partnership nobody administers; the token's
    partnership claim is now right, and refused until the administrator of
    the right partnership moves the organisation, unconfirmed there, here."""
    stray = await me(people, await token_as(app, "RX4", agency_kind="health", partnership="lscp-test"))
    assert stray.status_code == 200, stray.text
    right = await token_as(app, "RX4", partnership="demo-partnership")
    refused = await me(people, right)
    assert "the partnership claim 'partnership' says 'demo-partnership'" in refused.json()["detail"]

    registering = await as_admin(
        people, "POST", "/api/admin/organisations", json={"code": "RX4", "name": "RX4", "agency_kind": "health"}
    )
    assert registering.status_code == 409
    assert "you may move it to your partnership with a reason" in registering.json()["detail"]
    without_reason = await as_admin(people, "POST", "/api/admin/organisations/claims", json={"code": "RX4"})
    assert without_reason.status_code == 422
    assert without_reason.json()["errors"] == [
        {"field": "$.reason", "message": "a reason is required to move an organisation to your partnership"}
    ]

    moved = await as_admin(
        people,
        "POST",
        "/api/admin/organisations/claims",
        json={"code": "RX4", "reason": "A test token named lscp-test"},
    )

    assert moved.status_code == 200, moved.text
    assert (await me(people, right)).json()["partnership_code"] == "demo-partnership"
    detail = json.loads(await db.fetchval("SELECT detail::text FROM events WHERE action = 'organisation.corrected'"))
    stray_partnership = await db.fetchval("SELECT id::text FROM partnerships WHERE code = 'lscp-test'")
    assert stray_partnership in detail["partnership_ids"], "the partnership it left sees it in its trail too"


async def test_an_organisation_another_administrator_confirmed_is_not_taken(
    app: Litestar, people: SignedInPeople, db: asyncpg.Connection[Any]
) -> None:
    await me(people, await token_as(app, "RX5", agency_kind="health", partnership="lscp-other"))
    await db.execute("UPDATE organisations SET needs_confirmation = false WHERE code = 'RX5'")
    moved = await as_admin(
        people, "POST", "/api/admin/organisations/claims", json={"code": "RX5", "reason": "Ours, we think"}
    )
    assert moved.status_code == 409
    assert "confirmed by another partnership's administrator" in moved.json()["detail"]


async def test_a_correction_needs_a_reason_and_the_version_the_administrator_saw(people: SignedInPeople) -> None:
    registered = await register(people, "RX6", "Riverside Six", "health")
    url = f"/api/admin/organisations/{registered['id']}/corrections"

    no_reason = await as_admin(people, "POST", url, json={"agency_kind": "police"}, version=registered["row_version"])
    assert no_reason.status_code == 422
    assert {"field": "$.reason", "message": "a reason is required to correct an organisation's record"} in (
        no_reason.json()["errors"]
    )
    stale = await as_admin(
        people, "POST", url, json={"agency_kind": "police", "reason": "x"}, version=registered["row_version"] + 1
    )
    assert stale.status_code == 412
    no_version = await as_admin(people, "POST", url, json={"agency_kind": "police", "reason": "x"})
    assert no_version.status_code == 428


async def test_contacts_are_kept_and_changed_but_never_written_into_the_trail(
    people: SignedInPeople, db: asyncpg.Connection[Any]
) -> None:
    registered = await register(people, "RX7", "Riverside Seven", "health", audit_contacts=["a@rx7.nhs.uk"])
    changed = await as_admin(
        people,
        "PATCH",
        f"/api/admin/organisations/{registered['id']}",
        json={
            "safeguarding_lead": {"name": "Pat Named-Nurse", "email": "pat@rx7.nhs.uk"},
            "audit_contacts": ["a@rx7.nhs.uk", "b@rx7.nhs.uk"],
        },
        version=registered["row_version"],
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["safeguarding_lead"] == {"name": "Pat Named-Nurse", "email": "pat@rx7.nhs.uk"}
    assert changed.json()["audit_contacts"] == ["a@rx7.nhs.uk", "b@rx7.nhs.uk"]
    assert changed.json()["row_version"] == registered["row_version"] + 1
    trail_text = await db.fetchval("SELECT string_agg(detail::text, ' ') FROM events")
    assert "@" not in trail_text and "Pat Named-Nurse" not in trail_text


@pytest.mark.parametrize(
    ("body", "field", "said"),
    [
        ({"code": "two words"}, "$.code", "a code is 1 to 100 letters"),
        ({"name": " "}, "$.name", "a name is required"),
        ({"agency_kind": "wizards"}, "$.agency_kind", "no such agency kind"),
        ({"safeguarding_lead": {"email": "x@y.org"}}, "$.safeguarding_lead.name", "the safeguarding lead's name"),
        ({"audit_contacts": ["not an address"]}, "$.audit_contacts[0]", "is not an e-mail address"),
        ({"audit_contacts": ["a@b.org", "A@b.org"]}, "$.audit_contacts[1]", "is listed twice"),
    ],
)
async def test_what_cannot_be_registered_is_refused_naming_the_field(
    people: SignedInPeople, body: dict[str, Any], field: str, said: str
) -> None:
    answer = await as_admin(
        people,
        "POST",
        "/api/admin/organisations",
        json={"code": "RX8", "name": "Riverside Eight", "agency_kind": "health", **body},
    )
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert said in answer.json()["errors"][0]["message"]


async def test_an_inactive_organisations_people_are_refused_and_not_offered_to_coordinators(
    app: Litestar, people: SignedInPeople
) -> None:
    registered = await register(people, "RX10", "Closed Clinic", "health")
    token = await token_as(app, "RX10")
    assert (await me(people, token)).status_code == 200
    stopped = await as_admin(
        people,
        "PATCH",
        f"/api/admin/organisations/{registered['id']}",
        json={"active": False, "reason": "The clinic has closed"},
        version=registered["row_version"],
    )
    assert stopped.status_code == 200, stopped.text

    assert (await me(people, token)).status_code == 401
    offered = await request(people, "coordinator", "GET", "/api/organisations")
    assert "RX10" not in [o["code"] for o in offered.json()]


async def test_only_an_administrator_keeps_the_register_and_only_their_partnerships(
    app: Litestar, people: SignedInPeople
) -> None:
    refused = await request(people, "coordinator", "GET", "/api/admin/organisations")
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "only an admin may register organisations, correct their records and contacts, and register agencies' systems"
    )
    registered = await register(people, "RX11", "Riverside Eleven", "health")
    elsewhere = await token_as(
        app,
        "other-team",
        subject="admin-elsewhere",
        agency_kind="childrens-social-care",
        partnership="lscp-elsewhere",
        roles=["admin"],
    )
    theirs = await people.client.get(f"/api/admin/organisations/{registered['id']}", headers=bearer(elsewhere))
    assert theirs.status_code == 404
    listed = await people.client.get("/api/admin/organisations", headers=bearer(elsewhere))
    assert [o["code"] for o in listed.json()] == ["other-team"]


async def test_a_registered_agency_system_saves_with_a_token_naming_neither_organisation_nor_role(
    app: Litestar, people: SignedInPeople
) -> None:
    """Roles per registered machine client "where the provider gives none"."""
    police = await register(people, "force-9", "Ninth Force", "police")
    client = await as_admin(
        people,
        "POST",
        "/api/admin/clients",
        json={"client_id": "force-9-records", "organisation_id": police["id"], "roles": ["auditor"]},
    )
    assert client.status_code == 201, client.text
    token = await token_as(app, None, subject="force-9-records", client_id="force-9-records", name=None, roles=None)
    who = await me(people, token)
    assert who.status_code == 200, who.text
    assert (who.json()["organisation_code"], who.json()["roles"], who.json()["is_machine_client"]) == (
        "force-9",
        ["auditor"],
        True,
    )
    admin_role = await as_admin(
        people,
        "PATCH",
        "/api/admin/clients/force-9-records",
        json={"roles": ["admin"]},
        version=client.json()["row_version"],
    )
    assert admin_role.status_code == 422
    stopped = await as_admin(
        people,
        "PATCH",
        "/api/admin/clients/force-9-records",
        json={"active": False},
        version=client.json()["row_version"],
    )
    assert stopped.status_code == 200, stopped.text
    assert (await me(people, token)).status_code == 401
    assert [e["action"] for e in await trail(people)][:2] == ["machine-client.changed", "machine-client.registered"]
