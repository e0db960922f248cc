"""``maca token --persona health``: a development access token for curl.

    curl -H "Authorization: Bearer $(maca token --persona health)" http://127.0.0.1:8000/api/me

Signed by the development issuer with the key in MACA_DATA_DIR, for the
issuer at MACA_PUBLIC_URL (or MACA_HOST:MACA_PORT): run it with the same
settings as the server. With OIDC_ISSUER set, tokens come from that
provider instead, and this command refuses.
"""

from __future__ import annotations

import argparse
from typing import Any

from server.settings import Settings, SettingsError


def cmd_token(settings: Settings, args: argparse.Namespace) -> None:
    from server.auth.dev_idp import DevIssuer

    if not settings.uses_dev_issuer:
        raise SettingsError(
            "OIDC_ISSUER", "is set: get tokens from that identity provider (maca token signs development tokens only)"
        )
    print(DevIssuer.for_settings(settings).access_token(args.persona))


def add_token_command(commands: Any) -> None:
    from server.auth.dev_idp import personas

    token = commands.add_parser("token", help="print a development access token for a demo persona")
    token.add_argument("--persona", required=True, choices=sorted(personas()), help="who the token is for")
    token.set_defaults(handler=cmd_token)
