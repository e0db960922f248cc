"""Crash safety: Maca killed with SIGKILL in the middle of a burst of saves
loses nothing it acknowledged and leaves nothing half-written.

A real ``maca serve`` process; three agencies' auditors save their drafts
concurrently (two writers each, chained by If-Match, so some saves lose the
race with 412). Once enough saves were acknowledged the whole process group
is killed with SIGKILL while requests are still in flight. Maca is started
again on the same database, and for each agency:

- the stored version is the last acknowledged one, with exactly that save's
  content, or later only by saves that committed as the process died
  (before their answers left), holding one whole content a writer sent;
- there is exactly one ``contribution.saved`` event per version, no more,
  no fewer: the save and its event committed together or not at all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from server.settings import load_settings
from tests.deploy.processes import STOP_TIMEOUT, background, free_port, maca_environment, wait_until_ready
from tests.security.served import Served, tokens_for

pytestmark = pytest.mark.slow

AGENCIES = ("health", "police", "education")
WRITERS_PER_AGENCY = 2
ACKNOWLEDGED_BEFORE_KILL = 24
BURST_DEADLINE = 90.0


class Ledger:
    """What the writers sent and what Maca acknowledged, per agency."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[str, list[dict[str, Any]]] = {agency: [] for agency in AGENCIES}
        self.acknowledged: dict[str, dict[int, dict[str, Any]]] = {agency: {} for agency in AGENCIES}
        self.refused: list[int] = []

    @property
    def acknowledgements(self) -> int:
        with self.lock:
            return sum(len(by_version) for by_version in self.acknowledged.values())


@contextmanager
def started(database_url: str, data_dir: Path, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], Served]]:
    port = free_port()
    env = maca_environment(database_url, data_dir, MACA_PORT=str(port))
    with background([sys.executable, "-m", "server.cli", "serve"], log, env) as process:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, process, log)
        settings = load_settings({}, env="test", data_dir=str(data_dir), port=urlsplit(base_url).port or 0)
        served = Served(base_url, settings, tokens_for(settings))
        try:
            yield process, served
        finally:
            served.close()


def writer(served: Served, agency: str, url: str, ledger: Ledger, stop: threading.Event, number: int) -> None:
    with httpx.Client(base_url=served.base_url, timeout=10.0) as http:
        headers = served.headers(agency)
        sequence = 0
        while not stop.is_set():
            sequence += 1
            content = {"overall": {"impact": f"{agency} writer {number} save {sequence}"}, "answers": {}}
            try:
                current = http.get(url, headers=headers)
                if current.status_code != 200:
                    return
                with ledger.lock:
                    ledger.sent[agency].append(content)
                saved = http.put(url, json=content, headers={**headers, "If-Match": current.headers["etag"]})
            except httpx.TransportError:
                return  # the server is gone
            if saved.status_code == 200:
                version = int(saved.headers["etag"].strip('"'))
                with ledger.lock:
                    ledger.acknowledged[agency][version] = content
            else:
                with ledger.lock:
                    ledger.refused.append(saved.status_code)


def test_a_sigkill_mid_burst_loses_no_acknowledged_save(database_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ledger = Ledger()
    stop = threading.Event()
    with started(database_url, data_dir, tmp_path / "first.log") as (process, served):
        served.sign_in_everyone()
        audit = served.open_audit(list(AGENCIES))
        urls = {
            agency: f"/api/audits/{audit['id']}/contributions/{served.organisation_id(agency)}" for agency in AGENCIES
        }
        initial = {agency: served.request(agency, "GET", urls[agency]).json()["row_version"] for agency in AGENCIES}
        threads = [
            threading.Thread(target=writer, args=(served, agency, urls[agency], ledger, stop, n), daemon=True)
            for agency in AGENCIES
            for n in range(WRITERS_PER_AGENCY)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + BURST_DEADLINE
        while ledger.acknowledgements < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ledger.acknowledgements >= ACKNOWLEDGED_BEFORE_KILL, "the burst did not get going"
        # Mid-burst: every writer has a request on its way or about to be.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)
        stop.set()
        for thread in threads:
            thread.join(timeout=STOP_TIMEOUT)
            assert not thread.is_alive()

    assert all(status == 412 for status in ledger.refused), ledger.refused

    with started(database_url, data_dir, tmp_path / "second.log") as (_, again):
        again.me = served.me  # the same people and organisations
        events = again.request("coordinator", "GET", f"/api/audits/{audit['id']}/events", params={"limit": 1000})
        assert events.status_code == 200, events.text
        for agency in AGENCIES:
            stored = again.request(agency, "GET", urls[agency])
            assert stored.status_code == 200, stored.text
            body = stored.json()
            acknowledged = ledger.acknowledged[agency]
            assert acknowledged, f"{agency}: no save was acknowledged"
            last = max(acknowledged)
            # Every acknowledged save is there: nothing went back before it.
            # (Past it only by saves that committed as the process died.)
            assert body["row_version"] >= last, (agency, body["row_version"], last)
            # Each writer had at most one save in flight.
            assert body["row_version"] <= last + WRITERS_PER_AGENCY, (agency, body["row_version"], last)
            content = {"overall": body["content"]["overall"], "answers": body["content"]["answers"]}
            if body["row_version"] == last:
                assert content["overall"]["impact"] == acknowledged[last]["overall"]["impact"]
            else:
                # Committed as the process died: still one whole save someone sent.
                assert any(content["overall"]["impact"] == sent["overall"]["impact"] for sent in ledger.sent[agency])
            # One event per version: the save and its event are one transaction.
            organisation = str(served.organisation_id(agency))
            saved_events = [
                event
                for event in events.json()
                if event["action"] == "contribution.saved" and event["target_organisation_id"] == organisation
            ]
            assert len(saved_events) == body["row_version"] - initial[agency], agency
