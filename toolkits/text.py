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
    "isolated",
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

_OPENERS: Final = {
    "\u202a": "\u202c",  # LRE … PDF
    "\u202b": "\u202c",  # RLE … PDF
    "\u202d": "\u202c",  # LRO … PDF
    "\u202e": "\u202c",  # RLO … PDF
    "\u2066": "\u2069",  # LRI … PDI
    "\u2067": "\u2069",  # RLI … PDI
    "\u2068": "\u2069",  # FSI … PDI
}
_FIRST_STRONG_ISOLATE: Final = "\u2068"
_POP_DIRECTIONAL_ISOLATE: Final = "\u2069"
_POP_DIRECTIONAL_FORMATTING: Final = "\u202c"
# Where one bidirectional paragraph ends and the next begins (UAX #9 type B).
_PARAGRAPH_SEPARATORS: Final = frozenset("\n\r\x1c\x1d\x1e\x85\u2029")

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


def isolated(text: str) -> str:
    """``text`` made a directional isolate in plain text, as ``<bdi>`` makes
    it in HTML (UAX #9 §2.7: FIRST STRONG ISOLATE … POP DIRECTIONAL
    ISOLATE): for where no markup can go (a page's ``<title>``, a sentence
    composed around a name). Text without bidi controls is given back as it
    is. Otherwise each paragraph is isolated on its own, as isolates end
    with their paragraph, after balancing its controls: a closer with no
    opener is dropped (a stray PDI would close the isolate early), and
    every opener left open is closed."""
    if not any(character in BIDI_CONTROLS for character in text):
        return text
    paragraphs: list[str] = []
    current: list[str] = []
    for character in text:
        if character in _PARAGRAPH_SEPARATORS:
            paragraphs.append(_isolate_paragraph(current) + character)
            current = []
        else:
            current.append(character)
    paragraphs.append(_isolate_paragraph(current))
    return "".join(paragraphs)


def _isolate_paragraph(characters: list[str]) -> str:
    balanced: list[str] = []
    open_closers: list[str] = []
    for character in characters:
        if character in _OPENERS:
            open_closers.append(_OPENERS[character])
            balanced.append(character)
        elif character == _POP_DIRECTIONAL_ISOLATE:
            if _POP_DIRECTIONAL_ISOLATE not in open_closers:
                continue  # closes nothing of this text's own
            # A PDI also ends the embeddings opened inside its isolate.
            while open_closers.pop() != _POP_DIRECTIONAL_ISOLATE:
                pass
            balanced.append(character)
        elif character == _POP_DIRECTIONAL_FORMATTING:
            if not open_closers or open_closers[-1] != _POP_DIRECTIONAL_FORMATTING:
                continue
            open_closers.pop()
            balanced.append(character)
        else:
            balanced.append(character)
    closing = "".join(reversed(open_closers))
    return _FIRST_STRONG_ISOLATE + "".join(balanced) + closing + _POP_DIRECTIONAL_ISOLATE


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
