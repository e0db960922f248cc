"""People's words shown isolated from the text around them.

Free text keeps whatever a person wrote, bidirectional controls included (a
writer of Arabic or Hebrew may need the marks); an identifier refuses them
(``toolkits.text``). Wherever a page or a report shows what a person wrote
— a case reference, an organisation's or a person's name, an answer, a
comment, a reason, an action — it is shown in a ``<bdi>`` element: a
directional isolate (HTML's ``unicode-bidi: isolate``), so that a
RIGHT-TO-LEFT OVERRIDE inside it turns nothing round outside it. The PDF
report is made from the same templates. Where no
markup can go (a page's ``<title>``, a sentence composed in Python), the
plain-text isolate of ``toolkits.text.isolated`` does the same; ``bdi`` adds
it inside the element too, for renderers without ``unicode-bidi``.

Templates: ``{{ value | bdi }}``, and ``{{ text | lines }}`` for text of
several lines (each line isolated).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from toolkits.text import isolated

__all__ = ["bdi", "bdi_lines", "isolated"]


def bdi(value: object) -> Markup:
    """``value`` escaped, in a ``<bdi>`` element; nothing for ``None``.

    Text holding bidi controls is also balanced and isolated in plain text
    (``toolkits.text.isolated``): WeasyPrint does not implement
    ``unicode-bidi`` (it ignores the property, with a warning), and a
    renderer that lays the element's text out alone must still find every
    override closed within it."""
    if value is None:
        return Markup("")
    return Markup("<bdi>") + escape(isolated(str(value))) + Markup("</bdi>")


def bdi_lines(text: str | None) -> Markup:
    """Text with its line breaks kept, each line escaped and isolated."""
    return Markup("<br>").join(bdi(line) for line in (text or "").splitlines())
