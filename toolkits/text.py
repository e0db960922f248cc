"""What counts as text a person can see, and which characters an identifier
may not hold: one rule for every reason, comment and identifier Maca takes.

Two attacks found on real input (a red-team pass with an auditor's account):

- A required reason of ``"\\u200b"`` (zero-width space), ``"\\u2800"``
  (Braille pattern blank) or ``"\\u3164"`` (Hangul filler) passed
  ``str.strip()``: the reason to reopen an audit, to remove an agency (whose
  grades then leave the judgement) or to amend a submission said nothing to
  the person reading it. A reason must hold at least one character a reader
  sees: a letter, a digit, punctuation or a symbol (Unicode general
  categories L, N, P, S), not one of the few of those that are drawn as
  nothing. Spaces, marks on nothing, controls and format characters do not
  count.
- Bidirectional controls (RIGHT-TO-LEFT OVERRIDE U+202E, the isolates
  U+2066–U+2069 …) were stored and shown raw, so a case identifier could
  display reversed, and the override ran on into the text after it. An
  identifier (a case identifier or reference, initials, a code) refuses
  every control and format character; free text keeps them (a writer of
  Arabic or Hebrew may need the marks) and is shown isolated (``<bdi>``),
  so nothing it holds reaches the text around it.

Pure: no I/O, the same rules for the API, the web pages and tests.
"""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = [
    "BIDI_CONTROLS",
    "has_visible_character",
    "hidden_character",
    "is_case_reference",
    "is_identifier",
]

# The explicit directional formatting characters of the Unicode
# Bidirectional Algorithm (UAX #9 §2): embeddings and overrides (LRE, RLE,
# PDF, LRO, RLO), isolates (LRI, RLI, FSI, PDI) and the implicit marks
# (LRM, RLM, ALM).
BIDI_CONTROLS: Final = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # LRE RLE PDF LRO RLO
    "\u2066\u2067\u2068\u2069"  # LRI RLI FSI PDI
    "\u200e\u200f\u061c"  # LRM RLM ALM
)

# Letters and symbols by category that fonts draw as nothing: the Hangul
# fillers (default-ignorable code points of category Lo) and the Braille
# pattern blank (So), each used to make an empty-looking "reason".
_DRAWN_AS_NOTHING: Final = frozenset("\u115f\u1160\u3164\uffa0\u2800")

# Letters, numbers, punctuation, symbols.
_VISIBLE_CATEGORIES: Final = frozenset("LNPS")

# In an identifier: controls, format characters (the bidi controls, zero
# width spaces and joiners, the soft hyphen …), surrogates, private use,
# unassigned code points, and line and paragraph separators.
_HIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def has_visible_character(text: str) -> bool:
    """Whether ``text`` holds at least one character a reader sees."""
    return any(
        unicodedata.category(character)[0] in _VISIBLE_CATEGORIES and character not in _DRAWN_AS_NOTHING
        for character in text
    )


def hidden_character(text: str) -> str | None:
    """The first character of ``text`` an identifier may not hold, named as
    a person can look it up ("U+202E RIGHT-TO-LEFT OVERRIDE"), or ``None``."""
    for character in text:
        if unicodedata.category(character) in _HIDDEN_CATEGORIES or character in _DRAWN_AS_NOTHING:
            name = unicodedata.name(character, "an unnamed character")
            return f"U+{ord(character):04X} {name}"
    return None


def is_case_reference(question_id: str) -> bool:
    """Whether a case detail is the case's own identifier or reference
    (``case-identifier``, ``case-id``, ``cf-ecins-id``): what every list and
    heading names an audit by (the seed tools name these fields so)."""
    return "identifier" in question_id or question_id.endswith("-id")


def is_identifier(question_id: str) -> bool:
    """Whether a case detail (or a column of one) identifies rather than
    describes: the case reference, and a person's initials (``child-initials``,
    a family member's ``initials``, and ``child-name``, where seed 004 asks
    for the child's initials)."""
    return is_case_reference(question_id) or question_id.endswith(("initials", "child-name"))
