"""The dashboard page: GOV.UK tables beside accessible SVG charts, for the
partnership's coordinators and reviewers only."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from server.reports import charts
from tests.reports.test_themes_api import the_partnership
from tests.server.audit_fixtures import (
    People,
    people_fixture,  # noqa: F401 - fixture
    request,
)

SVG = "{http://www.w3.org/2000/svg}"


def test_a_chart_is_an_image_with_its_title_and_description_and_no_inline_style() -> None:
    svg = charts.stacked_bars(
        "trend",
        title="Overall grade by quarter",
        description="2025-Q1: 3 audits",
        categories=["2025-Q1", "2025-Q2"],
        series=[("Good", [2, 1]), ("Inadequate", [1, 0])],
    )
    root = ElementTree.fromstring(str(svg))  # noqa: S314 - our own output
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "trend-title trend-desc"
    title, desc = list(root)[:2]
    assert (title.tag, title.get("id"), title.text) == (f"{SVG}title", "trend-title", "Overall grade by quarter")
    assert (desc.tag, desc.get("id"), desc.text) == (f"{SVG}desc", "trend-desc", "2025-Q1: 3 audits")
    # CSP: no <style>, no style attributes, no script.
    assert not [e for e in root.iter() if e.tag in (f"{SVG}style", f"{SVG}script") or "style" in e.attrib]
    assert any(e.get("fill") for e in root.iter())  # the colours survived as attributes


def test_a_chart_counts_in_whole_numbers_and_its_legend_names_grades() -> None:
    """Issue 23: an empty chart's axis ran 0.0 to 1.0 in tenths, and the
    legend said 1, 2, 3, 4. Counts tick at whole numbers only; a legend
    names a grade as every page does."""
    ticks = {}
    for horizontal in (False, True):
        svg = str(
            charts.stacked_bars(
                "empty",
                title="t",
                description="d",
                categories=["2025-Q1"],
                series=[("Good (2)", [0]), ("Adequate (3)", [0])],
                horizontal=horizontal,
            )
        )
        axis = "xtick" if horizontal else "ytick"
        ticks[horizontal] = len(re.findall(rf'id="{axis}_\d+"', svg))
    # 0 and 1 only (matplotlib's default drew six: 0.0, 0.2, … 1.0).
    assert ticks == {False: 2, True: 2}
    busy = str(charts.stacked_bars("busy", title="t", description="d", categories=["a"], series=[("G", [7])]))
    assert len(re.findall(r'id="ytick_\d+"', busy)) == 8  # 0, 1, … 7


def test_the_dashboard_names_grades_in_legends_and_headers() -> None:
    from server.pages.themes import legend
    from server.reports.themes import GradeCount

    assert legend(GradeCount(grade=2, label="Good", count=3)) == "Good (2)"
    assert legend(GradeCount(grade=None, label="Not graded yet", count=1)) == "Not graded yet"


def test_a_chart_escapes_what_it_is_given() -> None:
    svg = str(charts.stacked_bars("x", title="<b>", description="a & b", categories=["<i>"], series=[("G", [1])]))
    assert "<b>" not in svg and "<i>" not in svg and "&lt;b&gt;" in svg


async def test_reviewers_and_coordinators_see_charts_beside_their_tables(people: People) -> None:
    s = await the_partnership(people)
    for persona in ("reviewer", "coordinator"):
        page = await request(people, persona, "GET", "/reports/themes", headers={"Accept": "text/html"})
        assert page.status_code == 200, page.text
        html = page.text
        assert '<h1 class="govuk-heading-l">Themes across audits</h1>' in html
        for table in ("trend-table", "sections-multi-agency-cp", "agency-grades", "overdue-actions"):
            assert f'id="{table}"' in html
        svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
        assert len(svgs) == 2  # the trend, and the one toolkit's sections
        for svg in svgs:
            root = ElementTree.fromstring(svg)  # noqa: S314 - our own page
            labelled = root.get("aria-labelledby", "").split()
            assert root.get("role") == "img" and len(labelled) == 2
            assert [child.tag for child in list(root)[:2]] == [f"{SVG}title", f"{SVG}desc"]
        assert "<script>" not in html and " style=" not in html and "<style" not in html
        # The numbers of the tables are the API's: S moderated to 3 in one audit.
        assert html.count("Disagreed") == 1 and s


async def test_an_auditor_is_refused_the_page_and_bad_filters_are_named(people: People) -> None:
    refused = await request(people, "health", "GET", "/reports/themes", headers={"Accept": "text/html"})
    assert refused.status_code == 403
    wrong = await request(people, "reviewer", "GET", "/reports/themes?from=soon", headers={"Accept": "text/html"})
    assert wrong.status_code == 422
    assert 'href="#from"' in wrong.text


def test_a_chart_stays_plain_svg_after_a_pdf_was_rendered_in_the_same_process() -> None:
    """WeasyPrint registers its own XML prefix for SVG; a chart written after
    it must still be <svg>, not <svg:svg>, which browsers do not draw."""
    import weasyprint  # the report's renderer, imported here as the server does lazily

    drawing = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'
    weasyprint.HTML(string=f"<p>RESTRICTED</p>{drawing}").write_pdf()
    svg = str(charts.stacked_bars("after-pdf", title="t", description="d", categories=["a"], series=[("G", [1])]))
    assert svg.startswith("<svg ") and "<svg:" not in svg
