"""``maca token --persona health``: a development access token for curl.

    curl -H "Authorization: Bearer $(maca token --persona health)" http://127.0.0.1:8000/api/me

Signed by the development issuer with the key in MACA_DATA_DIR. A token
names its issuer, which is the server's address: one minted for port 8000
is refused by a Maca on 8101. So ``maca serve`` leaves its address in
MACA_DATA_DIR (``serving.json``, removed when it stops), and ``maca token``
mints for the Maca running from the same data folder; with none running,
for the issuer at MACA_PUBLIC_URL (or MACA_HOST:MACA_PORT), as the server
would be started. ``--url`` names another. With OIDC_ISSUER set, tokens come
from that provider instead, and this command refuses.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from server.settings import Settings, SettingsError

SERVING_FILE = "serving.json"


class Serving(msgspec.Struct, frozen=True, kw_only=True):
    """What a running ``maca serve`` leaves in its data folder."""

    base_url: str
    pid: int


def _serving_path(settings: Settings) -> Path:
    return settings.data_path / SERVING_FILE


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[None]:
    """While the body runs (``maca serve``), its address is in the data folder."""
    path = _serving_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"base_url": settings.base_url, "pid": os.getpid()}), encoding="utf-8")
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            if running_from(settings) == Serving(base_url=settings.base_url, pid=os.getpid()):
                path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but alive
    return True


def running_from(settings: Settings) -> Serving | None:
    """The Maca serving from ``settings``' data folder, if one is running."""
    try:
        found = msgspec.json.decode(_serving_path(settings).read_bytes(), type=Serving)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    return found if _alive(found.pid) else None


def issuer_settings(settings: Settings, url: str | None) -> Settings:
    """``settings`` for the server the token is for: ``url``, else the one
    running from the data folder, else as configured."""
    if url is None:
        running = running_from(settings)
        if running is None or running.base_url == settings.base_url:
            return settings
        url = running.base_url
        print(f"maca token: for the Maca running at {url}", file=sys.stderr)
    return msgspec.structs.replace(settings, public_url=url.rstrip("/"))


def cmd_token(settings: Settings, args: argparse.Namespace) -> None:
    from server.auth.dev_idp import DevIssuer

    if not settings.uses_dev_issuer:
        raise SettingsError(
            "OIDC_ISSUER", "is set: get tokens from that identity provider (maca token signs development tokens only)"
        )
    if args.url is not None and not args.url.startswith(("http://", "https://")):
        raise SettingsError("--url", "must be the server's address, such as http://127.0.0.1:8101")
    print(DevIssuer.for_settings(issuer_settings(settings, args.url)).access_token(args.persona))


def add_token_command(commands: Any) -> None:
    from server.auth.dev_idp import personas

    token = commands.add_parser(
        "token",
        help="print a development access token for a demo persona",
        description="A development access token for the Maca running from MACA_DATA_DIR (or as configured).",
    )
    token.add_argument("--persona", required=True, choices=sorted(personas()), help="who the token is for")
    token.add_argument("--url", help="the address of the Maca the token is for (default: the one running)")
    token.set_defaults(handler=cmd_token)
