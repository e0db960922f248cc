"""Problems with what was sent, as every step words them: the limits on
free text, the reason a change needs, and a refusal naming each field.

Every reason, comment and description a person writes (the reason to
reopen, to remove an agency, to amend, to review early; a return's comment;
a moderation's reason; a remedial action's texts) is checked by
:func:`check_text`: not longer than its limit and, when it is required, at
least one character a reader can see (``toolkits.text``: ``"\u200b"``,
``"\u2800"`` and ``"\u3164"`` pass ``str.strip`` and say nothing).

The pure ``…_problems`` functions of the steps return ``FieldProblem``s
(``toolkits.validation``), so a page can show every problem with a form at
once; the step raises them as one :class:`InvalidInput` (422 naming each
field, for the API)."""

from __future__ import annotations

from collections.abc import Iterable

from server.platform.problems import Conflict, FieldError, InvalidInput, PreconditionFailed
from server.platform.transactions import etag
from toolkits.text import has_visible_character
from toolkits.validation import FieldProblem

__all__ = [
    "MAX_MODERATION_REASON",
    "MAX_REASON",
    "NO_SUCH_ORGANISATION",
    "changed_meanwhile",
    "check_reason",
    "check_seen_version",
    "check_text",
    "invalid",
    "refuse_when_closed",
]

MAX_REASON = 2_000
MAX_MODERATION_REASON = 5_000

NO_SUCH_ORGANISATION = "no organisation of your partnership has this id or code"


def invalid(problems: Iterable[FieldProblem], detail: str | None = None) -> InvalidInput:
    return InvalidInput(detail, errors=[FieldError(field=p.field, message=p.message) for p in problems])


def check_text(
    text: str | None, *, field: str, required: bool, missing: str, max_length: int = MAX_REASON
) -> list[FieldProblem]:
    """The one check of a person's free text: at most ``max_length``
    characters; when ``required``, given and holding something a reader
    sees, else the problem ``missing`` (the words the field's form shows)."""
    if text is not None and len(text) > max_length:
        return [FieldProblem(field=field, message=f"is longer than {max_length} characters")]
    if required and (text is None or not has_visible_character(text)):
        return [FieldProblem(field=field, message=missing)]
    return []


def check_reason(reason: str | None, *, required: bool, why: str) -> list[FieldProblem]:
    return check_text(reason, field="$.reason", required=required, missing=f"a reason is required {why}")


def check_seen_version(seen: int | None, current: int, *, resource: str, read_at: str) -> None:
    """412 unless the caller changes the version it last saw (a form that
    lost its hidden version field saw none), saying whose version was stale
    and where to read the current one: an auditor sending the audit's ETag
    for their contribution got "someone changed this" and no clue which
    ETag was meant."""
    if seen == current:
        return
    sent = "no version" if seen is None or seen < 0 else f'ETag "{seen}"'
    raise PreconditionFailed(
        f'{resource} is at ETag "{current}" and If-Match sent {sent}: it has changed since you read it, '
        f"or the ETag was another resource's. Read {resource} again (GET {read_at}), "
        "then send its ETag with your change",
        headers={"ETag": etag(current)},
    )


def changed_meanwhile(resource: str) -> PreconditionFailed:
    """412 for a write that lost a race between its read and its write."""
    return PreconditionFailed(f"{resource} changed while your change was being made; read it again and retry")


def refuse_when_closed(status: str, what: str) -> None:
    """A closed audit's judgement is final (DESIGN: "Once the audit is closed
    the judgement is final"): nothing that would change it — a moderation,
    a return, an amendment — is done until the audit is reopened, which
    takes a reason. 409, naming the one move allowed."""
    if status == "closed":
        raise Conflict(
            f"the audit is closed and its judgement is final; to {what}, reopen the audit first, with a reason",
            allowed=["open"],
        )
