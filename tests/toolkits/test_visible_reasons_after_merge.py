"""Issue 17's reasons — not involved, a significant failure's description,
why not the suggested grade — follow issue 18's rule: a reason must hold
something visible, whatever str.strip says."""

from __future__ import annotations

import pytest

from toolkits.validation import short_text_problems


@pytest.mark.parametrize("text", ["\u200b", "\u2800", " \u200b\u2060 ", "\u200e"])
def test_an_invisible_reason_is_refused(text: str) -> None:
    problems = list(short_text_problems(text, "$.not_involved.referral.reason", what="the reason"))
    assert [(p.field, p.message) for p in problems] == [("$.not_involved.referral.reason", "give the reason")]


def test_a_visible_reason_is_kept() -> None:
    assert list(short_text_problems("Not at the strategy meeting", "$.x", what="the reason")) == []
