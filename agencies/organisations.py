"""Organisations: the bodies that take part in a partnership's audits.

An organisation is named by the code its people's identity provider puts in
their tokens (``demo-health``); it is one agency kind (``health``). Pure: no
I/O, so the rules here are the same for the API, the web pages and tests.
"""

from __future__ import annotations

import re
from typing import Final

import msgspec

from agencies.kinds import AGENCY_KIND_CODES

# Codes travel in tokens, URLs and logs: short, no spaces. Upper case is
# allowed because NHS ODS codes (RX1) and directory group ids use it.
CODE_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$")


class Organisation(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    agency_kind: str


class InvalidOrganisation(ValueError):
    """A code or agency kind no organisation can have."""


def check_code(code: str) -> str:
    """``code`` if it can name an organisation or partnership."""
    if not CODE_PATTERN.match(code):
        raise InvalidOrganisation("a code is 1 to 100 letters, digits and . _ : / - (starting with a letter or digit)")
    return code


def organisation(code: str, name: str, agency_kind: str) -> Organisation:
    """An organisation, checked: a usable code and an agency kind Maca knows."""
    check_code(code)
    if agency_kind not in AGENCY_KIND_CODES:
        raise InvalidOrganisation(f"{agency_kind!r} is not an agency kind Maca knows")
    return Organisation(code=code, name=name.strip() or code, agency_kind=agency_kind)
