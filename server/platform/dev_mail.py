"""The development mail catcher: an SMTP server (aiosmtpd) that keeps what
it is sent as files under ``MACA_DATA_DIR/dev-mail`` instead of delivering
it. ``maca serve`` starts it in development when no ``MACA_SMTP_HOST`` is
set, and Maca shows what it caught at ``/dev-mail`` (development only; 404
in production). The tests use the same catcher, so they send through real
SMTP."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

# aiosmtpd narrates every connection at INFO (peers, EHLO, EOF); what it
# caught is at /dev-mail.
logging.getLogger("mail.log").setLevel(logging.WARNING)

__all__ = ["Catcher", "Caught", "caught_messages"]


class _Keep:
    def __init__(self, folder: Path, on_message: Any = None) -> None:
        self.folder = folder
        self.lock = threading.Lock()
        self.count = 0
        self.on_message = on_message

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.on_message is not None:
            refusal = await self.on_message(envelope)
            if refusal:
                return str(refusal)
        with self.lock:
            self.count += 1
            name = f"{self.count:06d}-{threading.get_ident()}.eml"
        content = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        (self.folder / name).write_bytes(content)
        return "250 Message accepted for delivery"


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class Catcher:
    """An SMTP server on ``host``:``port`` (a free one when 0) that keeps
    every message in ``folder``; ``on_message`` (async, given the envelope)
    may answer an SMTP refusal such as ``"451 try later"`` instead."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 0, on_message: Any = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.host = host
        self.port = port or _free_port(host)
        self.handler = _Keep(folder, on_message)
        # A fixed name: aiosmtpd would otherwise look its own up (socket.getfqdn,
        # blocking) for every connection.
        self.controller = Controller(self.handler, hostname=host, port=self.port, server_hostname="maca-catcher")

    def start(self) -> Catcher:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> Catcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True, kw_only=True)
class Caught:
    name: str
    message_id: str
    sender: str
    to: str
    subject: str
    date: str
    body: str


def caught_messages(folder: Path) -> list[Caught]:
    """What the catcher kept, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body_part = message.get_body(preferencelist=("plain",)) if hasattr(message, "get_body") else None
        body = body_part.get_content() if body_part is not None else ""
        found.append(
            Caught(
                name=path.name,
                message_id=str(message.get("Message-ID", "")),
                sender=str(message.get("From", "")),
                to=str(message.get("To", "")),
                subject=str(message.get("Subject", "")),
                date=str(message.get("Date", "")),
                body=body,
            )
        )
    return found
