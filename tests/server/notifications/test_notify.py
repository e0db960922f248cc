"""The GOV.UK Notify channel, through the official client, against a local
HTTP server that checks each request as Notify's API documents it: a JWT
(HS256, "iss" the API key's service id, "iat" now) signed with the key's
secret, and POST /v2/notifications/email with email_address, template_id,
personalisation and reference (the notification's own key)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import jwt
import pytest

from server.platform.mail import DeliveryFailed, Letter, NotifyChannel
from server.settings import load_settings

SERVICE_ID = str(uuid.uuid4())
SECRET = str(uuid.uuid4())
API_KEY = f"maca_test-{SERVICE_ID}-{SECRET}"
TEMPLATE = str(uuid.uuid4())
REFUSED = "refused@agency.example"


class FakeNotify(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        return

    def answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return self.answer(403, {"errors": [{"error": "AuthError", "message": "Unauthorized: no token"}]})
        try:
            claims = jwt.decode(auth[7:], SECRET, algorithms=["HS256"], options={"require": ["iss", "iat"]})
        except jwt.PyJWTError as error:
            return self.answer(403, {"errors": [{"error": "AuthError", "message": f"Invalid token: {error}"}]})
        if claims["iss"] != SERVICE_ID or abs(time.time() - claims["iat"]) > 30:
            return self.answer(403, {"errors": [{"error": "AuthError", "message": "Invalid token: iss or iat"}]})
        if self.path != "/v2/notifications/email" or self.headers.get("Content-Type") != "application/json":
            return self.answer(404, {"errors": [{"error": "NotFound", "message": self.path}]})
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        missing = {"email_address", "template_id"} - set(body)
        if missing or not isinstance(body.get("personalisation", {}), dict):
            return self.answer(400, {"errors": [{"error": "ValidationError", "message": f"missing {missing}"}]})
        if body["email_address"] == REFUSED:
            return self.answer(
                400,
                {
                    "status_code": 400,
                    "errors": [
                        {
                            "error": "BadRequestError",
                            "message": "Can't send to this recipient using a team-only API key",
                        }
                    ],
                },
            )
        FakeNotify.received.append(body)
        notification = str(uuid.uuid4())
        return self.answer(
            201,
            {
                "id": notification,
                "reference": body.get("reference"),
                "content": {"subject": "s", "body": "b", "from_email": "maca@notifications.service.gov.uk"},
                "uri": f"https://api.notifications.service.gov.uk/v2/notifications/{notification}",
                "template": {"id": body["template_id"], "version": 1, "uri": "…"},
            },
        )


@pytest.fixture
def notify_url() -> Iterator[str]:
    FakeNotify.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeNotify)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def letter(to: str) -> Letter:
    return Letter(
        key="concern-raised:1234:lead@police.example",
        message="concern-raised",
        to=to,
        subject="Immediate concern on audit MACA-1A2B3C4D",
        body="An immediate concern has been raised.",
        link="https://maca.example/concerns/1234",
    )


async def test_a_message_goes_to_notify_as_its_api_documents(notify_url: str) -> None:
    settings = load_settings(
        {},
        env="test",
        mail_channel="notify",
        notify_api_key=API_KEY,
        notify_base_url=notify_url,
        notify_template_id=TEMPLATE,
    )
    await NotifyChannel(settings).send(letter("lead@police.example"))
    (sent,) = FakeNotify.received
    assert sent["email_address"] == "lead@police.example"
    assert sent["template_id"] == TEMPLATE
    assert sent["reference"] == "concern-raised:1234:lead@police.example"
    assert sent["personalisation"] == {
        "subject": "Immediate concern on audit MACA-1A2B3C4D",
        "body": "An immediate concern has been raised.",
        "link": "https://maca.example/concerns/1234",
    }


async def test_a_template_per_message_and_notifys_refusal_in_words(notify_url: str) -> None:
    own = str(uuid.uuid4())
    settings = load_settings(
        {},
        env="test",
        mail_channel="notify",
        notify_api_key=API_KEY,
        notify_base_url=notify_url,
        notify_templates=f"concern-raised={own}",
    )
    channel = NotifyChannel(settings)
    await channel.send(letter("coordinator@csc.example"))
    assert FakeNotify.received[-1]["template_id"] == own
    with pytest.raises(DeliveryFailed, match="400: Can't send to this recipient using a team-only API key"):
        await channel.send(letter(REFUSED))
    wrong_key = load_settings(
        {},
        env="test",
        mail_channel="notify",
        notify_api_key=f"maca_test-{SERVICE_ID}-{uuid.uuid4()}",
        notify_base_url=notify_url,
        notify_template_id=TEMPLATE,
    )
    with pytest.raises(DeliveryFailed, match="403"):
        await NotifyChannel(wrong_key).send(letter("lead@police.example"))
