"""Charts for the themes dashboard: matplotlib drawn to SVG, made
accessible and fit for a strict Content-Security-Policy.

Each chart is an ``<svg role="img" aria-labelledby="…">`` whose first
children are ``<title>`` and ``<desc>`` (the description says in words what
the chart shows; the page puts the full data table beside it). matplotlib
writes a ``<style>`` block and ``style="…"`` attributes, which the page's
CSP (no inline styles) would block; they are rewritten as SVG presentation
attributes, which CSP does not govern.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from xml.etree import ElementTree

import matplotlib
from markupsafe import Markup

matplotlib.use("svg")  # no display on a server

from matplotlib import pyplot
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

SVG = "http://www.w3.org/2000/svg"
ElementTree.register_namespace("", SVG)
ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")

# GOV.UK colours, from better to worse, and a grey for "not graded yet".
# Grades are told apart by the legend and the table too, never colour alone.
GRADE_COLOURS = ("#00703c", "#1d70b8", "#f47738", "#d4351c", "#b1b4b6")

_PRESENTATION = {
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-opacity",
    "stroke-linejoin",
    "stroke-linecap",
    "stroke-dasharray",
    "stroke-miterlimit",
    "opacity",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
    "clip-path",
}
_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


def _accessible(figure: Figure, chart_id: str, title: str, description: str) -> Markup:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    pyplot.close(figure)
    root = ElementTree.fromstring(buffer.getvalue())  # noqa: S314 - matplotlib's own output, not input
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{SVG}}}style", f"{{{SVG}}}metadata"):
                parent.remove(child)
    for element in root.iter():
        style = element.attrib.pop("style", None)
        if style:
            for declaration in style.split(";"):
                name, _, value = declaration.partition(":")
                if name.strip() in _PRESENTATION and value.strip():
                    element.set(name.strip(), value.strip())
    safe = _SAFE_ID.sub("-", chart_id)
    root.set("role", "img")
    root.set("aria-labelledby", f"{safe}-title {safe}-desc")
    root.set("class", "maca-chart")
    root.set("id", safe)
    for name in ("width", "height"):
        root.attrib.pop(name, None)  # the viewBox scales it to the column
    desc = ElementTree.Element(f"{{{SVG}}}desc", {"id": f"{safe}-desc"})
    desc.text = description
    heading = ElementTree.Element(f"{{{SVG}}}title", {"id": f"{safe}-title"})
    heading.text = title
    root.insert(0, desc)
    root.insert(0, heading)
    # ElementTree escapes every text and attribute (section titles come
    # from toolkit definitions), so the result is safe to put in a page.
    # Registered again just before writing: another library in the process
    # (WeasyPrint) registers its own prefix for SVG, which would turn <svg>
    # into <svg:svg>, which browsers do not draw.
    ElementTree.register_namespace("", SVG)
    ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return Markup(ElementTree.tostring(root, encoding="unicode"))  # noqa: S704


def stacked_bars(
    chart_id: str,
    *,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    horizontal: bool = False,
    value_label: str = "Audits",
) -> Markup:
    """Bars of ``categories``, each stacked from ``series`` (label, one value
    per category), as accessible SVG."""
    height = max(3.0, 0.32 * len(categories) + 1.5) if horizontal else 3.6
    figure, axes = pyplot.subplots(figsize=(7.5, height))
    positions = range(len(categories))
    base = [0] * len(categories)
    for (label, values), colour in zip(series, GRADE_COLOURS * 2, strict=False):
        if horizontal:
            axes.barh(positions, values, left=base, label=label, color=colour)
        else:
            axes.bar(positions, values, bottom=base, label=label, color=colour)
        base = [b + v for b, v in zip(base, values, strict=True)]
    # Counts are whole numbers: ticks at integers only, and an axis from 0
    # to at least 1 when nothing is counted yet (matplotlib's default for
    # an empty axis was 0.0 to 1.0 in tenths).
    most = max(base, default=0)
    if horizontal:
        axes.set_yticks(list(positions), list(categories))
        axes.invert_yaxis()
        axes.set_xlabel(value_label)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlim(0, max(1, most))
    else:
        axes.set_xticks(list(positions), list(categories), rotation=45, ha="right")
        axes.set_ylabel(value_label)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylim(0, max(1, most))
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    figure.tight_layout()
    return _accessible(figure, chart_id, title, description)
