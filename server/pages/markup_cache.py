"""Render less (issue 24): each question's markup on an agency's section
page, rendered by Jinja once per question and state, then kept.

A section page spent about 70 % of its time in Jinja rendering the GOV.UK
macros of its questions, markup that is the same for every audit of a
toolkit version: only the answers differ. :func:`question_markup` stands in
for the ``question(...)`` macro call of ``web/auditor/section.html``; it
keeps the macro's output in a bounded LRU (per process) keyed by everything
the markup depends on other than free text:

- the toolkit and the question *objects* (their ``id()``; each entry holds
  both, so neither id can be reused by another object while the entry
  lives): a toolkit version published at runtime, or a partnership's own
  version read again, is another object and so never meets another
  version's markup;
- the section, question and input ids, the comments and evidence labels;
- for the inputs whose value is chosen (grade, single-choice, the fixed
  choices, multiple-choice, tick): the value(s) chosen;
- for each free-text input (text, evidence, number, a date's day, month and
  year, comments, evidence boxes): whether it is empty — ``govukInput``
  writes ``value=""`` for an empty value and the macros test values, so
  empty and not empty are different markup.

A free-text value is rendered as a sentinel (letters and digits, with a
random per-process part: escaping leaves it as it is) and the markup kept
as literal pieces with the inputs' places between them; a page fills them
with ``markupsafe.escape(value)``, which is what autoescape and the GOV.UK
macros' ``| escape`` write. Filling is one pass over the kept pieces, so a
value that looks like a sentinel is only ever text.

The macro itself renders (nothing kept) where the cache is not clearly
safe: a ``rows`` question, an input of this question with a problem shown
on it, a value that is not a string (a field sent twice), a chosen value
longer than :data:`MAX_CHOSEN_CHARS`, a date part or number over several
lines (the date input's ``| indent`` indents a value's later lines), or a
rendering in which the sentinels do not come back exactly (never seen: the
check is there so it can only ever cost speed).

:meth:`QuestionMarkup.pure` keeps the page's other large blocks (the
section's grade radios, "not involved at this stage"): macros of short
strings, numbers, None and a toolkit's frozen parts, keyed by them as they
are (a short reason for "not involved" is then part of a key, in this
process's memory only, as the page itself is).

``tests/web/test_section_markup.py`` renders sections of every toolkit
version and agency both ways and asserts the same bytes.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import msgspec
from markupsafe import Markup, escape

from toolkits.model import FIXED_CHOICES, Question, Section, Toolkit

# Entries, at most. Measured (issue 24): the 127 section pages of every
# toolkit version and agency, three answer states each, made 1,457 entries
# of 2.7 K characters on average, 7.2 MB in all (the seeds' ’ and “ make
# CPython keep markup at 2 bytes a character). 1,024 entries is some 5 MB
# a worker, more than one partnership's toolkits in the states its pages
# are seen in (a question's states: its choice, and which boxes are empty).
MAX_ENTRIES: Final = 1_024
MAX_CHOSEN_CHARS: Final = 200

# Sentinels: letters and digits only (nothing for escaping to change), with
# a part no toolkit text or answer can know in advance.
_PREFIX: Final = f"macaslot{secrets.token_hex(8)}n"
_SENTINEL: Final = re.compile(rf"{_PREFIX}(\d+)x")

_CHOSEN_KINDS: Final = frozenset({"grade", "single-choice", "multiple-choice", "tick", *FIXED_CHOICES})


def _sentinel(index: int) -> str:
    return f"{_PREFIX}{index}x"


@dataclass(frozen=True, slots=True)
class _Entry:
    # Held so that the ids in the key name these objects while the entry
    # lives: the toolkit and question, or a pure macro and its arguments.
    held: tuple[object, ...]
    # The markup's literal pieces; between pieces[i] and pieces[i + 1] goes
    # the value of input slots[i].
    pieces: tuple[Markup, ...]
    slots: tuple[int, ...]

    @property
    def chars(self) -> int:
        return sum(len(p) for p in self.pieces)


def _free_text_inputs(question: Question, name: str) -> tuple[str, ...]:
    """The inputs of ``question`` whose values the markup shows as text."""
    if question.kind == "date":
        own: tuple[str, ...] = (f"{name}-day", f"{name}-month", f"{name}-year")
    elif question.kind in _CHOSEN_KINDS:
        own = ()
    else:  # number, text, evidence: the macro's last branch
        own = (name,)
    return (*own, f"{name}-comments", f"{name}-evidence")


_PLAIN_ARGUMENTS: Final = (str, int, bool, type(None))


def _argument_key(argument: object) -> object:
    """An argument of a pure macro in a key: a short string, number, truth
    value or None as itself; a frozen struct (a toolkit's part) or a tuple
    of them by ``id()`` (the entry holds it); None for anything else."""
    if isinstance(argument, _PLAIN_ARGUMENTS):
        short = not isinstance(argument, str) or len(argument) <= MAX_CHOSEN_CHARS
        return (type(argument).__name__, argument) if short else None  # True is not 1
    if isinstance(argument, msgspec.Struct) and type(argument).__struct_config__.frozen:
        return ("id", id(argument))
    if isinstance(argument, tuple) and all(_argument_key(a) is not None for a in argument):
        return ("id", id(argument))
    return None


def _same(held: tuple[object, ...], given: tuple[object, ...]) -> bool:
    """Whether an entry was made from these objects (plain values: equal)."""
    return len(held) == len(given) and all(
        h == g if isinstance(g, _PLAIN_ARGUMENTS) else h is g for h, g in zip(held, given, strict=True)
    )


def _text_boxes(question: Question, name: str) -> tuple[str, ...]:
    """The textareas a question may show (their values are written as they
    are; a number's and a date's are ``<input>`` values)."""
    own = () if question.kind in ("number", "date") else (name,)
    return (*own, f"{name}-comments", f"{name}-evidence")


def _chosen_key(value: object) -> object:
    """What a choice's markup depends on (None: nothing safe to key on)."""
    if isinstance(value, str):
        return value if len(value) <= MAX_CHOSEN_CHARS else None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        chosen = tuple(value)
        return ("list", chosen) if sum(len(v) for v in chosen) <= MAX_CHOSEN_CHARS else None
    return None


class QuestionMarkup:
    """The bounded LRU of question markup, and its counts."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.enabled = True
        self.hits = 0
        self.misses = 0
        self.bypassed = 0
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def chars(self) -> int:
        """Characters of markup kept (the bulk of the cache's memory)."""
        with self._lock:
            return sum(entry.chars for entry in self._entries.values())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = self.bypassed = 0

    @contextmanager
    def disabled(self) -> Any:
        """Every question rendered by its macro, as before the cache (tests)."""
        self.enabled = False
        try:
            yield
        finally:
            self.enabled = True

    def render(
        self,
        macro: Callable[..., Markup],
        toolkit: Toolkit,
        question: Question,
        section: Section,
        values: Mapping[str, Any],
        errors: Any,
        grades: Sequence[Any],
        fixed_choices: Mapping[str, Any],
        name: str,
        has_comments: Callable[[Section, Question], bool],
        comments_label: Callable[[Section, Question], str],
        evidence_label: str,
        row_count: Callable[..., int],
    ) -> Markup:
        """What ``macro(question, section, values, errors, …)`` renders."""

        def rendered(answers: Mapping[str, Any]) -> Markup:
            return macro(
                question,
                section,
                answers,
                errors,
                grades,
                fixed_choices,
                name,
                has_comments,
                comments_label,
                evidence_label,
                row_count,
            )

        def plain() -> Markup:
            self.bypassed += 1
            return rendered(values)

        if (
            not self.enabled
            or question.kind == "rows"
            or grades is not toolkit.scale.grades
            or fixed_choices is not FIXED_CHOICES
            or (errors and any(field == name or field.startswith(f"{name}-") for field in errors.messages))
        ):
            return plain()
        shown: dict[str, Any] = {}
        chosen: object = None
        if question.kind in _CHOSEN_KINDS:
            value = values.get(name, "")
            chosen = _chosen_key(value)
            if chosen is None:
                return plain()
            shown[name] = value
        filled: list[str] = []
        empty: list[bool] = []
        boxes = _text_boxes(question, name)
        for input_name in _free_text_inputs(question, name):
            text = values.get(input_name, "")
            if not isinstance(text, str):
                return plain()
            if input_name not in boxes and text.splitlines() != [text] and text:
                # An input's value over several lines: the date input's
                # ``| indent`` indents its later lines, so it is not the
                # value escaped alone.
                return plain()
            empty.append(not text)
            if text:
                shown[input_name] = _sentinel(len(filled))
                filled.append(text)
        key = (
            id(toolkit),
            toolkit.id,
            toolkit.version,
            section.id,
            id(question),
            question.id,
            name,
            has_comments(section, question),
            comments_label(section, question),
            evidence_label,
            chosen,
            tuple(empty),
        )
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and _same(entry.held, (toolkit, question)):
                self._entries.move_to_end(key)
                self.hits += 1
            else:
                entry = None
        if entry is None:
            entry = _kept(toolkit, question, rendered(shown), len(filled))
            if entry is None:
                return plain()
            with self._lock:
                self.misses += 1
                self._entries[key] = entry
                self._entries.move_to_end(key)
                self._trim()
        out: list[Markup] = [entry.pieces[0]]
        for slot, piece in zip(entry.slots, entry.pieces[1:], strict=True):
            out.append(escape(filled[slot]))
            out.append(piece)
        # Every item is markup already: the macro's pieces and escaped values.
        return Markup("".join(out))  # noqa: S704

    def pure(self, macro: Callable[..., Markup], *arguments: object) -> Markup:
        """What ``macro(*arguments)`` renders, kept when every argument is a
        short string, a number, a truth value, None or a toolkit's frozen
        part: a macro imported without context renders from its arguments
        alone (the page's judgement radios)."""
        keys = tuple(_argument_key(a) for a in arguments)
        if not self.enabled or any(k is None and a is not None for k, a in zip(keys, arguments, strict=True)):
            self.bypassed += 1
            return macro(*arguments)
        key = ("pure", id(macro), *keys)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and _same(entry.held, (macro, *arguments)):
                self._entries.move_to_end(key)
                self.hits += 1
                return entry.pieces[0]
        markup = macro(*arguments)
        with self._lock:
            self.misses += 1
            self._entries[key] = _Entry(held=(macro, *arguments), pieces=(markup,), slots=())
            self._trim()
        return markup

    def _trim(self) -> None:
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


def _kept(toolkit: Toolkit, question: Question, markup: Markup, slots: int) -> _Entry | None:
    """``markup`` in literal pieces around its sentinels; None if anything
    but a sentinel given looks like one. (A value the markup does not show
    leaves no sentinel: only whether it is empty can matter, and that is
    in the key.)"""
    parts = _SENTINEL.split(str(markup))
    indices = tuple(int(i) for i in parts[1::2])
    if markup.count(_PREFIX) != len(indices) or any(i >= slots for i in indices):
        return None
    return _Entry(held=(toolkit, question), pieces=tuple(Markup(p) for p in parts[0::2]), slots=indices)  # noqa: S704 - the macro's own markup, cut at its sentinels


question_markup = QuestionMarkup()
