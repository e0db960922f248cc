"""The judgement's words as the pages and the combined report say them.

``merging`` writes its rules and traces for every reader, the API's
included: an agency as "Demo Police (police)" (its name and its kind's
code) and an agreed grade as "Moderated to Good by … on
2026-12-05T23:12:09+00:00: <reason>". A person reads an agency by its name
alone, a time in GOV.UK's style, and the panel's reason once, beside the
agreed grade; these helpers make those words from the same judgement, so
the page and the report cannot say it differently."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

from server.reports.dates import datetime_text

__all__ = ["agreed_when", "plain", "plain_trace"]

_MODERATED = re.compile(r"^Moderated to ")


def _named(judgement: Any) -> dict[str, str]:
    """``"Demo Police (police)"`` → ``"Demo Police"`` for every agency the
    judgement names."""
    found: dict[str, str] = {}
    groups: list[Iterable[Any]] = [judgement.overall.agencies, judgement.overall.stated]
    for section in judgement.sections:
        groups += [section.agencies, section.not_involved, section.significant_failures]
    groups += [judgement.immediate_concerns]
    for item in judgement.items:
        groups.append(item.agencies)
    for group in groups:
        for agency in group:
            name = getattr(agency, "organisation_name", None)
            kind = getattr(agency, "agency_kind", None)
            if name and kind:
                found[f"{name} ({kind})"] = name
    return found


def plain(text: str, judgement: Any) -> str:
    """``text`` with each agency named by its name alone."""
    for labelled, name in sorted(_named(judgement).items(), key=lambda pair: -len(pair[0])):
        text = text.replace(labelled, name)
    return text


def plain_trace(trace: Iterable[str], judgement: Any) -> list[str]:
    """The overall judgement's steps in plain words, without the agreed
    grade's step (shown once, with its reason and date, beside the grade)."""
    return [plain(step, judgement) for step in trace if not _MODERATED.match(step)]


def agreed_when(moderated_at: str | datetime.datetime | None) -> str:
    """When the panel agreed a grade, as people read a time."""
    if moderated_at is None:
        return ""
    if isinstance(moderated_at, datetime.datetime):
        return datetime_text(moderated_at)
    try:
        return datetime_text(datetime.datetime.fromisoformat(moderated_at))
    except ValueError:
        return moderated_at
