"""Two Maca processes against one database, as two replicas behind a load
balancer: whichever one a request reaches, the answer is the same, because
Maca keeps no state of its own (deploy/README.md, "Scaling past one machine").

Covered: the toolkits API and readiness; two replicas migrating one empty
database as they start together; a browser signing in across both (the
sign-in request, the session and its CSRF token live in PostgreSQL); and
the whole audit journey with every request going to the other replica than
the one before (ETags, idempotency keys and judgements agree).

Replicas behind a load balancer share its public address (MACA_PUBLIC_URL)
and their signing material; here the first replica's address stands in for
the balancer's, and its development issuer for the identity provider.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from server.settings import Settings, load_settings
from tests.deploy.processes import background, free_port, maca_environment, maca_server, wait_until_ready
from tests.identity import PERSONAS, bearer, token_for
from tests.server.audit_fixtures import an_open_audit, contribution_url, draft_and_submit, request

pytestmark = pytest.mark.slow


@pytest.fixture
def two_replicas(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with ExitStack() as stack:
        urls = tuple(
            stack.enter_context(
                maca_server(maca_environment(database_url, tmp_path / f"data-{name}"), tmp_path / f"{name}.log")
            )
            for name in ("a", "b")
        )
        yield urls[0], urls[1]


def test_requests_alternating_between_two_processes_get_the_same_answers(two_replicas: tuple[str, str]) -> None:
    a, b = two_replicas
    assert a != b
    listing = {base: httpx.get(f"{base}/api/toolkits", timeout=10) for base in (a, b)}
    assert [r.status_code for r in listing.values()] == [200, 200]
    assert listing[a].json() == listing[b].json()
    toolkit_ids = [toolkit["id"] for toolkit in listing[a].json()]
    assert toolkit_ids

    for step, toolkit_id in enumerate(toolkit_ids * 2):
        base = (a, b)[step % 2]
        other = (b, a)[step % 2]
        here = httpx.get(f"{base}/api/toolkits/{toolkit_id}", timeout=10)
        there = httpx.get(f"{other}/api/toolkits/{toolkit_id}", timeout=10)
        assert (here.status_code, there.status_code) == (200, 200)
        assert here.json() == there.json()
        assert httpx.get(f"{base}/readyz", timeout=10).json() == {"status": "ready"}


def test_both_processes_answer_concurrent_requests(two_replicas: tuple[str, str]) -> None:
    def fetch(index: int) -> int:
        base = two_replicas[index % 2]
        path = "/api/toolkits" if index % 3 else "/readyz"
        return httpx.get(base + path, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(fetch, range(90)))
    assert statuses == [200] * len(statuses)


def test_one_process_stopping_leaves_the_other_serving(database_url: str, tmp_path: Path) -> None:
    env = maca_environment(database_url, tmp_path / "data")
    with maca_server(env, tmp_path / "survivor.log") as survivor:
        with maca_server(env, tmp_path / "leaver.log") as leaver:
            assert httpx.get(f"{leaver}/readyz", timeout=10).status_code == 200
        # The leaver is gone (stopped at the end of its block).
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{leaver}/healthz", timeout=2)
        assert httpx.get(f"{survivor}/readyz", timeout=10).json() == {"status": "ready"}
        assert httpx.get(f"{survivor}/api/toolkits", timeout=10).status_code == 200


def test_two_processes_starting_together_with_migrate_share_one_empty_database(
    empty_database: str, tmp_path: Path
) -> None:
    """`maca serve --migrate` on two replicas at once: the advisory lock lets
    one apply the migrations while the other waits, and both come up."""
    env = maca_environment(empty_database, tmp_path / "data")
    command = [sys.executable, "-m", "server.cli", "serve", "--migrate"]
    with ExitStack() as stack:
        started = []
        for name in ("a", "b"):
            port = free_port()
            log = tmp_path / f"{name}.log"
            process = stack.enter_context(background(command, log, {**env, "MACA_PORT": str(port)}))
            started.append((f"http://127.0.0.1:{port}", process, log))
        for base, process, log in started:
            wait_until_ready(base, process, log)
            assert httpx.get(f"{base}/api/toolkits", timeout=10).status_code == 200
        logs = [log.read_text() for _, _, log in started]
    applied = [text for text in logs if "migrations applied: 0001_" in text]
    assert len(applied) == 1, logs
    assert sum("database schema is up to date" in text for text in logs) == 1, logs


@pytest.fixture
def replicas_behind_one_address(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str, Settings]]:
    """Two replicas sharing one public address and one data folder (the
    development issuer's key): the first one started writes the key."""
    ports = (free_port(), free_port())
    public = f"http://127.0.0.1:{ports[0]}"
    data_dir = tmp_path / "shared-data"
    env = maca_environment(database_url, data_dir, MACA_PUBLIC_URL=public)
    command = [sys.executable, "-m", "server.cli", "serve"]
    with ExitStack() as stack:
        bases = []
        for name, port in zip(("a", "b"), ports, strict=True):
            log = tmp_path / f"{name}.log"
            process = stack.enter_context(background(command, log, {**env, "MACA_PORT": str(port)}))
            base = f"http://127.0.0.1:{port}"
            wait_until_ready(base, process, log)
            bases.append(base)
        yield bases[0], bases[1], load_settings({}, env="test", data_dir=str(data_dir), public_url=public)


class Alternating:
    """An HTTP client that sends each request to the other replica than the
    one before, as a round-robin load balancer would."""

    def __init__(self, client: httpx.AsyncClient, bases: tuple[str, str]) -> None:
        self.client = client
        self.bases = bases
        self.served: dict[str, int] = dict.fromkeys(bases, 0)
        self._next = 0

    async def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        base = self.bases[self._next % 2]
        self._next += 1
        self.served[base] += 1
        return await self.client.request(method, base + url, **kwargs)  # type: ignore[arg-type]


class ReplicaPeople:
    """The personas with tokens from the shared issuer (``People`` in
    tests/server/audit_fixtures.py)."""

    def __init__(self, client: Alternating, tokens: dict[str, str], organisations: dict[str, uuid.UUID]) -> None:
        self.client = client
        self.tokens = tokens
        self.organisations = organisations

    def headers(self, persona: str) -> dict[str, str]:
        return bearer(self.tokens[persona])

    def organisation_id(self, persona: str) -> uuid.UUID:
        return self.organisations[persona]


async def test_the_audit_journey_alternating_between_two_processes_is_one_service(
    replicas_behind_one_address: tuple[str, str, Settings],
) -> None:
    a, b, settings = replicas_behind_one_address
    async with httpx.AsyncClient(timeout=30) as http:
        client = Alternating(http, (a, b))
        tokens = {persona: await token_for(settings, persona) for persona in PERSONAS}
        organisations = {}
        for persona in PERSONAS:
            me = await client.request("GET", "/api/me", headers=bearer(tokens[persona]))
            assert me.status_code == 200, me.text
            organisations[persona] = uuid.UUID(me.json()["organisation_id"])
        people = ReplicaPeople(client, tokens, organisations)

        # Created on one replica, distributed on the other with the ETag the first gave.
        audit = await an_open_audit(people, participants=["health", "police"], referrer="police")
        for persona in ("health", "police"):
            submitted = await draft_and_submit(people, persona, audit)
            assert submitted["status"] == "submitted"

        # A retried POST reaches the other replica: it gets the first answer, once.
        url = contribution_url(audit, people, "health")
        returned = {}
        current = await request(people, "coordinator", "GET", url)
        for _ in range(2):
            returned[len(returned)] = await request(
                people,
                "coordinator",
                "POST",
                f"{url}/return",
                json={"comment": "Please add the strategy meeting"},
                headers={"If-Match": current.headers["etag"], "Idempotency-Key": "return-health-1"},
            )
        assert [r.status_code for r in returned.values()] == [200, 200]
        assert returned[0].json() == returned[1].json()
        assert returned[1].headers["idempotent-replayed"] == "true"
        assert (await draft_and_submit(people, "health", audit))["status"] == "submitted"

        # A stale ETag is stale on both replicas.
        stale = await request(
            people,
            "health",
            "PUT",
            url,
            json={"answers": {}, "reason": "late change"},
            headers={"If-Match": current.headers["etag"]},
        )
        assert stale.status_code == 412, stale.text

        judgements = [
            await http.get(f"{base}/api/audits/{audit['id']}/judgement", headers=people.headers("reviewer"))
            for base in (a, b)
        ]
        assert [j.status_code for j in judgements] == [200, 200], judgements[0].text
        assert judgements[0].json() == judgements[1].json()
        assert judgements[0].json()["provisional"] is False

        for status in ("in-review", "closed"):
            current = await request(people, "coordinator", "GET", f"/api/audits/{audit['id']}")
            moved = await request(
                people,
                "coordinator",
                "POST",
                f"/api/audits/{audit['id']}/status",
                # Closing confirms what is outstanding (no overall grade agreed here).
                json={"status": status}
                if status != "closed"
                else {"status": status, "confirm_outstanding": True, "reason": "Panel met"},
                headers={"If-Match": current.headers["etag"]},
            )
            assert moved.status_code == 200, moved.text
        listings = [
            (await http.get(f"{base}/api/audits", headers=people.headers("reviewer"))).json() for base in (a, b)
        ]
        assert listings[0] == listings[1]
        assert [item["status"] for item in listings[0]["audits"]] == ["closed"]
        # Both replicas really served the journey, turn and turn about.
        served = sorted(client.served.values())
        assert served[0] >= 10 and served[1] - served[0] <= 1, client.served


def _hidden_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


def _on(base: str, location: str) -> str:
    """``location`` (an absolute URL at the public address, or a path) sent to ``base`` instead."""
    path = re.sub(r"^https?://[^/]+", "", location)
    return base + path


async def test_a_browser_signs_in_on_one_process_and_is_known_to_the_other(
    replicas_behind_one_address: tuple[str, str, Settings],
) -> None:
    a, b, _ = replicas_behind_one_address
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as browser:
        started = await browser.get(f"{b}/sign-in?next=/account")
        assert started.status_code == 303, started.text
        provider_page = await browser.get(_on(a, started.headers["location"]))
        assert provider_page.status_code == 200, provider_page.text
        fields = {k: v.replace("&amp;", "&") for k, v in _hidden_fields(provider_page.text).items()}
        chosen = await browser.post(f"{b}/dev-idp/authorize", data={**fields, "persona": "health"})
        assert chosen.status_code == 303, chosen.text
        # The callback reaches the other replica than the one that started the sign-in.
        signed_in = await browser.get(_on(a, chosen.headers["location"]))
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == "/account"

        me_on_b = await browser.get(f"{b}/api/me")
        assert me_on_b.status_code == 200, me_on_b.text
        assert (me_on_b.json()["organisation_code"], me_on_b.json()["authenticated_by"]) == ("demo-health", "session")

        account = await browser.get(f"{b}/account", headers={"Accept": "text/html"})
        csrf_token = _hidden_fields(account.text)["csrf_token"]
        signed_out = await browser.post(f"{a}/sign-out", data={"csrf_token": csrf_token})
        assert signed_out.status_code == 303, signed_out.text
        assert (await browser.get(f"{b}/api/me")).status_code == 401
