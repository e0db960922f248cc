"""Hostile input: every malformed, oversized or malicious request gets a 4xx
problem document saying what is wrong, and nothing is stored.

Text fields are free text: an apostrophe or a quote is part of someone's
words (O'Brien), so SQL metacharacters there are stored exactly as sent and
read back unchanged — with every table intact. Identifiers, enumerations and
filters have a fixed form, so the same characters there are refused."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from tests.server.audit_fixtures import (
    CASE_DETAILS,
    ORGANISATION_OF,
    People,
    a_draft_audit,
    an_open_audit,
    contribution_url,
    people_fixture,  # noqa: F401 - fixture
    request,
)

SQL = [
    "'; DROP TABLE audits; --",
    '" OR 1=1 --',
    "x'); DELETE FROM events WHERE ('1'='1",
    "$1; SELECT pg_sleep(10)",
    "\\'; TRUNCATE contributions CASCADE; --",
    "%' UNION SELECT key_hash FROM sessions --",
]

TABLES = ("audits", "contributions", "contribution_versions", "events", "remedial_actions", "sessions")


async def counts(db: asyncpg.Connection[Any]) -> dict[str, int]:
    # The table names are this module's constants.
    return {table: int(await db.fetchval(f"SELECT count(*) FROM {table}")) for table in TABLES}  # noqa: S608


def assert_problem(response: Any, status: int | tuple[int, ...], mentions: str | None = None) -> dict[str, Any]:
    expected = status if isinstance(status, tuple) else (status,)
    assert response.status_code in expected, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    said = json.dumps(body).lower()
    if mentions is not None:
        assert mentions.lower() in said, body
    # Nothing from inside the server leaks into the answer.
    for inside in ("traceback", "asyncpg", "psycopg", "sqlstate", 'file "/'):
        assert inside not in said, body
    return body


async def saved_contribution(people: People, audit: dict[str, Any]) -> tuple[str, str]:
    url = contribution_url(audit, people, "health")
    current = await request(people, "health", "GET", url)
    assert current.status_code == 200, current.text
    return url, current.headers["etag"]


def agency_questions(audit: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        question
        for section in audit["questions"]["sections"]
        if section.get("completed_by", "agency") == "agency"
        for question in section["questions"]
    ]


# --- bodies ----------------------------------------------------------------------


async def test_an_oversized_body_is_refused_with_413(people: People, db: asyncpg.Connection[Any]) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url, etag = await saved_contribution(people, audit)
    before = await counts(db)
    huge = json.dumps({"answers": {"q": {"value": "x" * 1_100_000}}}).encode()
    response = await request(
        people, "health", "PUT", url, content=huge, headers={"If-Match": etag, "Content-Type": "application/json"}
    )
    assert_problem(response, 413)
    assert await counts(db) == before


@pytest.mark.parametrize("depth", [200, 5_000, 100_000])
async def test_deeply_nested_bodies_are_refused(people: People, db: asyncpg.Connection[Any], depth: int) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url, etag = await saved_contribution(people, audit)
    before = await counts(db)
    nested = ("[" * depth) + ("]" * depth)
    body = f'{{"answers": {{"equality-diversity": {{"value": {nested}}}}}}}'.encode()
    response = await request(
        people, "health", "PUT", url, content=body, headers={"If-Match": etag, "Content-Type": "application/json"}
    )
    assert_problem(response, (400, 413, 422))
    assert await counts(db) == before
    # The contribution is as it was.
    assert (await request(people, "health", "GET", url)).json()["content"]["answers"] == {}


async def test_huge_strings_are_refused_naming_the_field(people: People, db: asyncpg.Connection[Any]) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url, etag = await saved_contribution(people, audit)
    seen = (await request(people, "health", "GET", f"/api/audits/{audit['id']}")).json()
    question = agency_questions(seen)[0]["id"]
    before = await counts(db)
    long = "a" * 200_000
    response = await request(
        people,
        "health",
        "PUT",
        url,
        json={"answers": {question: {"value": None, "comments": long}}},
        headers={"If-Match": etag},
    )
    body = assert_problem(response, 422, "longer than")
    assert any(error["field"] == f"$.answers.{question}.comments" for error in body["errors"]), body

    returned = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/status",
        json={"status": "in-review", "reason": long},
        headers={"If-Match": f'"{audit["row_version"]}"'},
    )
    assert_problem(returned, (409, 422))
    action = await request(
        people, "coordinator", "POST", f"/api/audits/{audit['id']}/actions", json={"action": long, "who": long}
    )
    body = assert_problem(action, 422, "longer than")
    assert {error["field"] for error in body["errors"]} >= {"$.action", "$.who"}
    organisation = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={"toolkit": long, "participants": [long]},
    )
    assert_problem(organisation, (404, 422))
    assert await counts(db) == before


@pytest.mark.parametrize(
    "body",
    [
        b'{"answers": {"q": {"value": "\xff\xfe"}}}',
        b'{"answers": {"q": {"comments": "\xc3\x28"}}}',
        b"\xef\xbb\xbf\xff{}",
        b'{"answers": {"\xed\xa0\x80": {}}}',  # a UTF-16 surrogate, encoded
    ],
)
async def test_invalid_utf8_is_refused(people: People, db: asyncpg.Connection[Any], body: bytes) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url, etag = await saved_contribution(people, audit)
    before = await counts(db)
    response = await request(
        people, "health", "PUT", url, content=body, headers={"If-Match": etag, "Content-Type": "application/json"}
    )
    assert_problem(response, (400, 422))
    assert await counts(db) == before


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/xml", b"<answers><q>yes</q></answers>"),
        ("application/x-www-form-urlencoded", b"answers=yes&overall=1"),
        ("text/plain", b"answers: yes"),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\nb\r\n--x--\r\n"),
    ],
)
async def test_bodies_that_are_not_json_are_refused(
    people: People, db: asyncpg.Connection[Any], content_type: str, body: bytes
) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url, etag = await saved_contribution(people, audit)
    before = await counts(db)
    response = await request(
        people, "health", "PUT", url, content=body, headers={"If-Match": etag, "Content-Type": content_type}
    )
    assert_problem(response, 415, "Content-Type: application/json")
    assert await counts(db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": {}, "status": "submitted"}, "$.status"),
        # A dict's value named by its key (msgspec alone says "$.answers[...]").
        ({"answers": {"q": {"value": 1, "grade": 4}}}, "$.answers.q.grade"),
        ({"overall": {"grade": 1, "author": "me"}}, "$.overall.author"),
    ],
)
async def test_unknown_fields_are_refused_by_name(
    people: People, db: asyncpg.Connection[Any], body: dict[str, Any], field: str
) -> None:
    audit = await an_open_audit(people, participants=["health"])
    url, etag = await saved_contribution(people, audit)
    before = await counts(db)
    response = await request(people, "health", "PUT", url, json=body, headers={"If-Match": etag})
    problem = assert_problem(response, 422, "unknown field")
    assert [error["field"] for error in problem["errors"]] == [field]
    assert await counts(db) == before


async def test_unknown_fields_in_a_new_audit_are_refused(people: People, db: asyncpg.Connection[Any]) -> None:
    before = await counts(db)
    response = await request(
        people,
        "coordinator",
        "POST",
        "/api/audits",
        json={
            "toolkit": "multi-agency-cp",
            "participants": [ORGANISATION_OF["health"]],
            "case_details": CASE_DETAILS,
            "created_by": "someone else",
        },
    )
    problem = assert_problem(response, 422, "unknown field")
    assert [error["field"] for error in problem["errors"]] == ["$.created_by"]
    assert await counts(db) == before


# --- paths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/audits/..%2F..%2Fetc%2Fpasswd",
        "/api/audits/../../etc/passwd",
        "/api/audits/%2e%2e%2f%2e%2e%2fetc%2fpasswd/contributions/x",
        "/api/toolkits/..%2F..%2Fpyproject.toml",
        "/api/toolkits/..%2fdefinitions%2fmulti-agency-cp%2fv1.yaml",
        "/api/toolkits/multi-agency-cp%00.yaml",
        "/static/swagger-ui/..%2F..%2F..%2Fpyproject.toml",
        "/static/swagger-ui/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
    ],
)
async def test_path_traversal_in_ids_finds_nothing(people: People, path: str) -> None:
    response = await people.client.get(path, headers=people.headers("coordinator"))
    assert response.status_code in (400, 404), response.text
    assert b"[project]" not in response.content
    assert b"root:" not in response.content
    assert b"toolkit:" not in response.content or path.startswith("/api/toolkits/multi-agency-cp")


# --- SQL metacharacters ----------------------------------------------------------


async def test_sql_metacharacters_in_text_fields_are_kept_as_words(people: People, db: asyncpg.Connection[Any]) -> None:
    """Every free-text field a caller writes: stored verbatim, read back
    unchanged, and the tables are all still there."""
    words = " | ".join(SQL)
    details = json.loads(json.dumps(CASE_DETAILS))
    details["answers"]["previous-cp-or-concerning-history"] = {"value": words}
    draft = await a_draft_audit(people, participants=["health"], case_details=details)
    opened = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{draft['id']}/status",
        json={"status": "open"},
        headers={"If-Match": f'"{draft["row_version"]}"'},
    )
    assert opened.status_code == 200, opened.text
    audit = opened.json()
    url, etag = await saved_contribution(people, audit)
    seen = (await request(people, "health", "GET", f"/api/audits/{audit['id']}")).json()
    question = next(q["id"] for q in agency_questions(seen) if q.get("comments", "none") != "none")
    saved = await request(
        people,
        "health",
        "PUT",
        url,
        json={"answers": {question: {"value": None, "comments": words}}, "overall": {"impact": words}},
        headers={"If-Match": etag},
    )
    assert saved.status_code == 200, saved.text
    action = await request(
        people,
        "coordinator",
        "POST",
        f"/api/audits/{audit['id']}/actions",
        json={"action": words, "who": words, "timescale": words},
    )
    assert action.status_code == 201, action.text

    back = (await request(people, "health", "GET", url)).json()["content"]
    assert back["answers"][question]["comments"] == words
    assert back["overall"]["impact"] == words
    case = (await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}")).json()
    assert case["case_details"]["answers"]["previous-cp-or-concerning-history"]["value"] == words
    actions = (await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}/actions")).json()
    assert [(a["action"], a["who"], a["timescale"]) for a in actions] == [(words, words, words)]
    # Every table is still there, and nothing was deleted.
    present = await counts(db)
    assert present["audits"] == 1 and present["events"] > 0 and present["contributions"] == 1


@pytest.mark.parametrize("hostile", SQL)
async def test_sql_metacharacters_in_identifiers_and_filters_are_refused(
    people: People, db: asyncpg.Connection[Any], hostile: str
) -> None:
    audit = await an_open_audit(people, participants=["health"])
    before = await counts(db)
    refused = [
        await people.client.get("/api/audits", params={"status": hostile}, headers=people.headers("coordinator")),
        await people.client.get("/api/audits", params={"due_before": hostile}, headers=people.headers("coordinator")),
        await people.client.get("/api/audits", params={"limit": hostile}, headers=people.headers("coordinator")),
        await request(
            people,
            "coordinator",
            "POST",
            f"/api/audits/{audit['id']}/status",
            json={"status": hostile},
            headers={"If-Match": f'"{audit["row_version"]}"'},
        ),
        await request(
            people,
            "coordinator",
            "POST",
            "/api/audits",
            json={"toolkit": hostile, "participants": [ORGANISATION_OF["health"]]},
        ),
        await request(
            people,
            "coordinator",
            "POST",
            "/api/audits",
            json={"toolkit": "multi-agency-cp", "participants": [hostile]},
        ),
        await request(
            people,
            "reviewer",
            "PUT",
            f"/api/audits/{audit['id']}/judgement/sections/{hostile}",
            json={"grade": 1, "reason": "agreed"},
            headers={"If-Match": '"1"'},
        ),
    ]
    for response in refused:
        assert 400 <= response.status_code < 500, response.text
        assert_problem(response, response.status_code)
    assert await counts(db) == before
    # The toolkit filter is free text matched as a value: nothing matches it.
    listed = await people.client.get("/api/audits", params={"toolkit": hostile}, headers=people.headers("coordinator"))
    assert listed.status_code == 200 and listed.json()["total"] == 0


async def test_the_nul_character_postgresql_cannot_store_is_refused(
    people: People, db: asyncpg.Connection[Any]
) -> None:
    """Found by the fuzzer: U+0000 in any text reached PostgreSQL, which
    cannot store it in text or jsonb, and was answered 500."""
    audit = await an_open_audit(people, participants=["health"])
    url, etag = await saved_contribution(people, audit)
    before = await counts(db)
    refused = [
        await request(people, "coordinator", "POST", f"/api/audits/{audit['id']}/actions", json={"action": "a\u0000"}),
        await request(
            people, "health", "PUT", url, json={"overall": {"impact": "x\u0000"}}, headers={"If-Match": etag}
        ),
        await people.client.get("/api/audits", params={"toolkit": "\u0000"}, headers=people.headers("coordinator")),
    ]
    for response in refused:
        assert_problem(response, 422, "NUL character")
    assert await counts(db) == before
