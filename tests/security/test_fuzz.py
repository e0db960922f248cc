"""API fuzzing with schemathesis against Maca's own OpenAPI document.

A real ``maca serve`` process; every operation in ``/schema/openapi.json``
is called with generated parameters and bodies (valid and invalid ones), as
a persona hypothesis picks, half the time against a real open audit (its
organisations and a remedial action) with the resource's current ETag in
``If-Match``, so that the calls reach past the 404s and 428s into the
handlers. Every response must be no 5xx and conform to the document: a
documented status code, content type, headers and body schema.

``make test`` runs a few examples per operation; ``make fuzz`` many more
(``FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from litestar._openapi.plugin import OpenAPIPlugin
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.app import create_app
from server.settings import load_settings
from tests.identity import ALL_PERSONAS
from tests.security.served import Served, served_maca

pytestmark = pytest.mark.slow

# make fuzz sets FUZZ_EXAMPLES (400); make test runs a few per operation.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


class Target:
    """The served Maca and the real resources fuzzed requests may aim at."""

    def __init__(self, served: Served) -> None:
        self.served = served
        # Every test starts from empty tables (tests/conftest.py): sign in
        # again, so the organisations exist, and build the audit.
        served.sign_in_everyone()
        self.audit = served.open_audit(["health", "police", "education"])
        action = served.request(
            "coordinator",
            "POST",
            f"/api/audits/{self.audit['id']}/actions",
            json={
                "action": "Review the plan",
                "who": "Health lead",
                "timescale": "one month",
                "responsible_organisation_id": str(served.organisation_id("health")),
                "due_date": "2026-12-31",
            },
        )
        assert action.status_code == 201, action.text
        self.action_id = action.json()["id"]


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("fuzz")
    with served_maca(database_url, folder / "data", folder / "maca.log") as running:
        yield running


@pytest.fixture
def target(served: Served) -> Target:
    return Target(served)


def maca_document() -> dict[str, Any]:
    """The OpenAPI document exactly as Maca serves it, built in-process
    (no database needed) so that each operation is its own test."""
    folder = tempfile.mkdtemp(prefix="maca-fuzz-")
    app = create_app(load_settings({}, env="test", data_dir=folder), database_url="postgresql://unused/maca")
    response = app.plugins.get(OpenAPIPlugin).provide_openapi_schema()
    shutil.rmtree(folder, ignore_errors=True)
    document: dict[str, Any] = json.loads(json.dumps(response))
    return document


schema = schemathesis.openapi.from_dict(maca_document())


# The resource whose ETag an operation's If-Match is compared with.
_ETAG_OF = (
    (re.compile(r"^(/api/audits/[^/]+)/(status)$"), r"\1"),
    (re.compile(r"^(/api/audits/[^/]+/contributions/[^/]+)/(submit|return|fhir)$"), r"\1"),
    (re.compile(r"^(/api/audits/[^/]+/judgement)/sections/[^/]+$"), r"\1"),
    (re.compile(r"^(/api/audits/[^/]+)/actions/[^/]+$"), r"\1/actions"),
)


def etag_for(target: Target, persona: str, path: str) -> str | None:
    resource = path
    for pattern, replacement in _ETAG_OF:
        if pattern.match(path):
            resource = pattern.sub(replacement, path)
            break
    response = target.served.request(persona, "GET", resource)
    if response.status_code != 200:
        return None
    if resource.endswith("/actions") and not path.endswith("/actions"):
        for action in response.json():
            if path.endswith(str(action["id"])):
                return f'"{action["row_version"]}"'
        return None
    return response.headers.get("etag")


@schema.parametrize()
@schema.given(persona=st.sampled_from(ALL_PERSONAS), aim=st.booleans(), organisation=st.sampled_from(ALL_PERSONAS))
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_no_operation_fails_or_strays_from_the_document(
    case: Any, target: Target, persona: str, aim: bool, organisation: str
) -> None:
    if aim:
        parameters = case.path_parameters or {}
        if "audit_id" in parameters:
            parameters["audit_id"] = target.audit["id"]
        if "organisation" in parameters:
            # A contribution's organisation by its id or by its code.
            by_id = str(target.served.organisation_id(organisation))
            parameters["organisation"] = (
                by_id if len(organisation) % 2 else target.served.me[organisation]["organisation_code"]
            )
        if "action_id" in parameters:
            parameters["action_id"] = target.action_id
    headers = target.served.headers(persona)
    if aim and case.method.upper() in ("PUT", "PATCH", "POST") and case.path_parameters:
        etag = etag_for(target, persona, case.formatted_path)
        if etag is not None:
            headers["If-Match"] = etag
    case.call_and_validate(base_url=target.served.base_url, headers=headers, checks=CHECKS)
