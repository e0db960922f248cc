"""Sending one message: SMTP (aiosmtplib: STARTTLS or TLS, and auth) or
GOV.UK Notify (the official client, templates by id), chosen by
``MACA_MAIL_CHANNEL``. A channel raises :class:`DeliveryFailed` with a
reason the administrator can read (never the message's text); the worker
(``server/platform/queue.py``) retries with back-off.

Each message carries its notification's own key: as SMTP's
``Message-ID`` (a receiving system that drops duplicates drops a resend)
and as Notify's ``reference``."""

from __future__ import annotations

import asyncio
import email.message
import email.utils
import socket
import ssl
from dataclasses import dataclass
from typing import Protocol

import aiosmtplib

from server.settings import Settings

__all__ = ["Channel", "DeliveryFailed", "Letter", "channel_for"]


class DeliveryFailed(Exception):
    """The channel did not take the message; ``str()`` says why, in words."""


@dataclass(frozen=True, kw_only=True)
class Letter:
    key: str  # the notification's own key
    message: str  # which message of the list (templates by id)
    to: str
    subject: str
    body: str
    link: str | None  # an absolute address


class Channel(Protocol):
    name: str

    async def send(self, letter: Letter) -> None: ...


def _message_id(key: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-." else "." for c in key)
    return f"<{safe}@maca>"


class SmtpChannel:
    name = "smtp"

    def __init__(self, settings: Settings) -> None:
        if settings.smtp_host is None:
            raise ValueError("MACA_SMTP_HOST is not set")
        self.settings = settings
        self.host = settings.smtp_host
        # The name Maca greets the server with (EHLO), looked up once:
        # aiosmtplib would call socket.getfqdn(), which blocks the event
        # loop, for every message (measured: 2 messages a second).
        self.local_hostname = settings.smtp_local_hostname or socket.getfqdn()
        # Loading the system's certificates costs milliseconds: once, not per message.
        self.tls_context = ssl.create_default_context() if settings.smtp_security != "none" else None

    def compose(self, letter: Letter) -> email.message.EmailMessage:
        mail = email.message.EmailMessage()
        mail["From"] = self.settings.mail_from
        mail["To"] = letter.to
        mail["Subject"] = letter.subject
        mail["Date"] = email.utils.formatdate(localtime=False)
        mail["Message-ID"] = _message_id(letter.key)
        mail["Auto-Submitted"] = "auto-generated"
        text = letter.body
        if letter.link:
            text += f"\n\nOpen it in Maca: {letter.link}\n"
        text += "\nThis message names the audit only by its reference number. Do not reply to it.\n"
        mail.set_content(text)
        return mail

    async def send(self, letter: Letter) -> None:
        settings = self.settings
        try:
            await aiosmtplib.send(
                self.compose(letter),
                hostname=self.host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password,
                use_tls=settings.smtp_security == "tls",
                start_tls=settings.smtp_security == "starttls",
                tls_context=self.tls_context,
                timeout=settings.smtp_timeout_seconds,
                local_hostname=self.local_hostname,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise DeliveryFailed(f"the mail server refused the recipient: {_codes(error)}") from error
        except aiosmtplib.SMTPAuthenticationError as error:
            raise DeliveryFailed(f"the mail server refused Maca's user name or password ({error.code})") from error
        except aiosmtplib.SMTPResponseException as error:
            raise DeliveryFailed(f"the mail server answered {error.code}: {error.message[:200]}") from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise DeliveryFailed(
                f"could not reach the mail server {self.host}:{settings.smtp_port}: {type(error).__name__}"
            ) from error


def _codes(error: aiosmtplib.SMTPRecipientsRefused) -> str:
    return ", ".join(f"{e.code}" for e in error.recipients) or "no reason given"


class NotifyChannel:
    """GOV.UK Notify's email API (POST /v2/notifications/email), through
    the official client, one template per message or one for all with the
    fields ``subject``, ``body`` and ``link``."""

    name = "notify"

    def __init__(self, settings: Settings) -> None:
        from notifications_python_client.notifications import NotificationsAPIClient

        if not settings.notify_api_key:
            raise ValueError("MACA_NOTIFY_API_KEY is not set")
        self.templates = _templates(settings.notify_templates)
        self.default_template = settings.notify_template_id
        if not self.default_template and not self.templates:
            raise ValueError("set MACA_NOTIFY_TEMPLATE_ID or MACA_NOTIFY_TEMPLATES")
        self.client = NotificationsAPIClient(  # type: ignore[no-untyped-call]
            settings.notify_api_key, base_url=settings.notify_base_url, timeout=30
        )

    async def send(self, letter: Letter) -> None:
        from notifications_python_client.errors import APIError, HTTPError

        template = self.templates.get(letter.message, self.default_template)
        if template is None:
            raise DeliveryFailed(f"no GOV.UK Notify template for the message {letter.message}")
        try:
            await asyncio.to_thread(
                self.client.send_email_notification,
                email_address=letter.to,
                template_id=template,
                personalisation={"subject": letter.subject, "body": letter.body, "link": letter.link or ""},
                reference=letter.key,
            )
        except HTTPError as error:
            if error.response is None:
                raise DeliveryFailed("could not reach GOV.UK Notify") from error
            detail = error.message
            if isinstance(detail, list):
                detail = "; ".join(str(m.get("message", "")) for m in detail if isinstance(m, dict))
            raise DeliveryFailed(f"GOV.UK Notify answered {error.status_code}: {str(detail)[:300]}") from error
        except APIError as error:
            raise DeliveryFailed(f"could not reach GOV.UK Notify: {type(error).__name__}") from error
        except OSError as error:
            raise DeliveryFailed(f"could not reach GOV.UK Notify: {type(error).__name__}") from error


def _templates(value: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in (value or "").split(","):
        if "=" in part:
            name, template = part.split("=", 1)
            found[name.strip()] = template.strip()
    return found


class NoChannel:
    name = "none"

    async def send(self, letter: Letter) -> None:
        raise DeliveryFailed("no mail channel is configured (MACA_MAIL_CHANNEL=none)")


def channel_for(settings: Settings) -> Channel:
    if settings.mail_channel == "notify":
        return NotifyChannel(settings)
    if settings.mail_channel == "smtp" and settings.smtp_host is not None:
        return SmtpChannel(settings)
    return NoChannel()
