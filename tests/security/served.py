"""A real ``maca serve`` process for the security tests, and the demo
personas signed in to it with real tokens (``token_for(settings, …)``):
synchronous helpers, as the fuzzer and the crash test drive it over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx

from server.settings import Settings, load_settings
from tests.deploy.processes import maca_environment, maca_server
from tests.identity import ALL_PERSONAS, bearer, token_for
from tests.server.audit_fixtures import CASE_DETAILS, ORGANISATION_OF

TIMEOUT = 30.0


class Served:
    """A Maca process and the personas' tokens for it."""

    def __init__(self, base_url: str, settings: Settings, tokens: Mapping[str, str]) -> None:
        self.base_url = base_url
        self.settings = settings
        self.tokens = dict(tokens)
        self.http = httpx.Client(base_url=base_url, timeout=TIMEOUT)
        self.me: dict[str, dict[str, Any]] = {}

    def headers(self, persona: str, **extra: str) -> dict[str, str]:
        return {**bearer(self.tokens[persona]), **extra}

    def request(self, persona: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers(persona), **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def sign_in_everyone(self) -> None:
        """Every persona calls /api/me once, so Maca records them."""
        for persona in self.tokens:
            response = self.request(persona, "GET", "/api/me")
            assert response.status_code == 200, response.text
            self.me[persona] = response.json()

    def organisation_id(self, persona: str) -> UUID:
        return UUID(self.me[persona]["organisation_id"])

    def open_audit(self, participants: list[str], case_details: Mapping[str, Any] = CASE_DETAILS) -> dict[str, Any]:
        created = self.request(
            "coordinator",
            "POST",
            "/api/audits",
            json={
                "toolkit": "multi-agency-cp",
                "participants": [ORGANISATION_OF[p] for p in participants],
                "case_details": case_details,
                "period_start": "2025-01-01",
                "period_end": "2025-12-31",
            },
        )
        assert created.status_code == 201, created.text
        opened = self.request(
            "coordinator",
            "POST",
            f"/api/audits/{created.json()['id']}/status",
            json={"status": "open"},
            headers={"If-Match": created.headers["etag"]},
        )
        assert opened.status_code == 200, opened.text
        audit: dict[str, Any] = opened.json()
        return audit

    def close(self) -> None:
        self.http.close()


def tokens_for(settings: Settings, personas: tuple[str, ...] = ALL_PERSONAS) -> dict[str, str]:
    async def mint() -> dict[str, str]:
        return {persona: await token_for(settings, persona) for persona in personas}

    return asyncio.run(mint())


@contextmanager
def served_maca(database_url: str, data_dir: Path, log: Path, **environment: str) -> Iterator[Served]:
    """``maca serve`` against ``database_url``, personas signed in."""
    with maca_server(maca_environment(database_url, data_dir, **environment), log) as base_url:
        settings = load_settings({}, env="test", data_dir=str(data_dir), port=urlsplit(base_url).port or 0)
        served = Served(base_url, settings, tokens_for(settings))
        try:
            served.sign_in_everyone()
            yield served
        finally:
            served.close()
