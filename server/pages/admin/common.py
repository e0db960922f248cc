"""What the administration's pages share: the trail in words, the agency
kinds to choose from, and reading a list typed one item a line."""

from __future__ import annotations

from typing import Any, Final

from agencies.kinds import AGENCY_KINDS
from merging import POLICIES
from server.audits.administration.partnership import TrailEntryView
from server.audits.events import EventName

__all__ = ["ACTIONS", "agency_kind_items", "lines_of", "policy_name", "trail_rows"]

# What each administration event is called on the pages.
ACTIONS: Final[dict[str, str]] = {
    EventName.ORGANISATION_REGISTERED: "Organisation registered",
    EventName.ORGANISATION_CHANGED: "Organisation changed",
    EventName.ORGANISATION_CONFIRMED: "Organisation confirmed",
    EventName.ORGANISATION_CORRECTED: "Organisation corrected",
    EventName.MACHINE_CLIENT_REGISTERED: "Agency system registered",
    EventName.MACHINE_CLIENT_CHANGED: "Agency system changed",
    EventName.PARTNERSHIP_CHANGED: "Partnership settings changed",
    EventName.TOOLKIT_CHOICE_CHANGED: "Toolkit settings changed",
    EventName.TOOLKIT_VERSION_UPLOADED: "Toolkit version uploaded",
    EventName.TOOLKIT_VERSION_ACTIVATED: "Toolkit version activated",
}


def policy_name(name: str | None) -> str:
    """A merge policy as people read it — "The partnership's 75% / 25%
    rule" — never its id ("overall-75-25", which only definitions and the
    API use; issue 17). An id no longer known is shown as it is."""
    if not name:
        return ""
    policy = POLICIES.get(name)
    if policy is None:
        return name
    return policy.title[:1].upper() + policy.title[1:]


_FIELDS: Final[dict[str, str]] = {
    "code": "code",
    "name": "name",
    "default_due_days": "default due period",
    "reminder_days_before": "reminders",
    "overdue_reminder_days": "overdue reminders",
    "retention_days": "retention period",
    "contacts": "contacts",
    "active": "active",
    "organisation": "organisation",
    "roles": "roles",
    "description": "description",
}


def _what(action: str, detail: dict[str, Any]) -> str:
    """The event's detail in a sentence: what changed, and the reason given."""
    parts: list[str] = []
    for field, change in (("agency_kind", detail.get("agency_kind")), ("partnership", detail.get("partnership"))):
        if isinstance(change, dict):
            words = "agency kind" if field == "agency_kind" else "partnership"
            parts.append(f"{words} {change.get('from')} → {change.get('to')}")
    changed = detail.get("changed")
    if isinstance(changed, list | dict):
        parts.append("changed: " + ", ".join(_FIELDS.get(str(name), str(name)) for name in changed))
    if action in (
        EventName.TOOLKIT_CHOICE_CHANGED,
        EventName.TOOLKIT_VERSION_UPLOADED,
        EventName.TOOLKIT_VERSION_ACTIVATED,
    ):
        toolkit = detail.get("toolkit_id")
        if action == EventName.TOOLKIT_VERSION_ACTIVATED:
            which = "the shipped version" if detail.get("shipped") else f"version {detail.get('version')}"
            parts.append(f"{toolkit}: new audits take {which}")
        elif action == EventName.TOOLKIT_VERSION_UPLOADED:
            parts.append(f"{toolkit} version {detail.get('version')} ({detail.get('file_name')})")
        else:
            offered = "offered" if detail.get("offered") else "not offered"
            chosen = detail.get("merge_policy")
            rule = policy_name(chosen) if isinstance(chosen, str) and chosen else "the toolkit’s own merge policy"
            parts.append(f"{toolkit}: {offered}, {rule}")
    if action in (EventName.MACHINE_CLIENT_REGISTERED, EventName.MACHINE_CLIENT_CHANGED):
        parts.append(f"client {detail.get('client_id')}, roles {', '.join(detail.get('roles') or []) or 'none'}")
    if action == EventName.ORGANISATION_REGISTERED:
        parts.append(f"as {detail.get('agency_kind')}")
    reason = detail.get("reason")
    if reason:
        parts.append(f"reason: {reason}")
    return "; ".join(parts)


def trail_rows(entries: list[TrailEntryView]) -> list[dict[str, Any]]:
    """The trail as the pages' tables show it."""
    return [
        {
            "at": entry.at,
            "what": ACTIONS.get(entry.action, entry.action),
            "organisation": entry.organisation_name,
            "organisation_id": entry.organisation_id,
            "detail": _what(entry.action, entry.detail),
            "by": entry.by or "Maca",
            "by_organisation": entry.by_organisation,
        }
        for entry in entries
    ]


def agency_kind_items(selected: str | None) -> list[dict[str, Any]]:
    """The agency kinds as a ``govukSelect``'s items."""
    items: list[dict[str, Any]] = [{"value": "", "text": "Choose an agency kind", "selected": not selected}]
    items += [{"value": kind.code, "text": kind.name, "selected": kind.code == selected} for kind in AGENCY_KINDS]
    return items


def lines_of(text: str) -> list[str]:
    """What was typed one item a line (or separated by commas)."""
    return [item.strip() for line in text.splitlines() for item in line.split(",") if item.strip()]
