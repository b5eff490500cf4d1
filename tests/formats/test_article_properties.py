"""For any article the metadata model accepts, JATS and Crossref are either valid against the official schemas or
refused with ``InvalidInput``: never invalid output (hypothesis draws the text, lengths and languages)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from osnode.domain.errors import InvalidInput
from osnode.formats import crossref, jats
from tests.article_schemas import assert_crossref, assert_jats
from tests.formats.conftest import ARTICLE, make_view

DEPOSIT = crossref.Deposit("RASP", "editor@rasp.example.org", "UAN", "batch-1", datetime(2026, 3, 1, tzinfo=UTC))
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=250)
SHORT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@st.composite
def articles(draw: st.DrawFn) -> dict[str, Any]:
    meta = copy.deepcopy(ARTICLE)
    meta["doi"] = "10.82433/" + draw(st.from_regex(r"[A-Za-z0-9._;()/:-]{1,220}", fullmatch=True))
    meta["titles"] = [{"title": draw(TEXT), "lang": draw(st.sampled_from(["en", "pt-BR", "ar", "zh", "ko", "fr"]))}]
    meta["language"] = draw(st.sampled_from(["en", "pt-BR", "por", "ar", "zh-Hans", "ko"]))
    meta["creators"] = [
        {"familyName": draw(SHORT), "givenName": draw(SHORT), "affiliations": [{"name": draw(SHORT)}]}
        for _ in range(draw(st.integers(1, 3)))
    ]
    meta["descriptions"] = [{"description": draw(TEXT), "lang": "en", "descriptionType": "Abstract"}]
    meta["subjects"] = [{"subject": draw(SHORT)} for _ in range(draw(st.integers(0, 3)))]
    container = meta["relatedItems"][0]
    for key in ("volume", "issue", "firstPage", "lastPage"):
        container[key] = draw(SHORT)
    return meta


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(articles())
def test_any_article_is_valid_or_refused(meta: dict[str, Any]) -> None:
    try:
        view = make_view(meta)
    except InvalidInput:
        assume(False)  # the metadata model refuses it: nothing to export
    assert_jats(jats.to_xml(view))  # JATS has no length limits: always written
    try:
        data = crossref.to_xml(view, None, DEPOSIT)
    except InvalidInput as refused:
        assert refused.errors
        return
    assert_crossref(data)


TOKENS = [
    "<h1>", "<h2>", "</h2>", "<h3>", "<h4>", "</h4>", "<p>", "</p>", "<ul>", "</ul>", "<ol>", "<li>", "</li>",
    "<table>", "</table>", "<tr>", "</tr>", "<td colspan='3'>", "<th rowspan=x>", "</td>", "<b>", "</b>", "<i>",
    "<sub>", "<sup>", "<code>", "<a href='https://example.org/a b'>", "<a href='https://example.org/x'>", "</a>",
    "<script>alert(1)</script>", "<div>", "</div>", "<br>", "<sec>", "</sec>", "<title>", "</title>", "<list>",
    "<list-item>", "</list-item>", "</list>", "<table-wrap>", "<bold>", "</bold>", "<ext-link xlink:href='x'>",
    "text ", "&amp; ", "\u00e9t\u00e9 ", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 ", "\x00", "<!-- c -->",
    "<img src=x onerror=alert(1)>", "<math><mi>x</mi></math>", "<fig><graphic/></fig>", "<caption>", "<pre>",
]  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join), st.sampled_from(["html", "jats"]))
def test_any_galley_gives_valid_jats(markup: str, kind: str) -> None:
    view = make_view(ARTICLE)
    if kind == "html":
        data = f"<!DOCTYPE html><html><body>{markup}</body></html>".encode()
    else:
        data = f'<article xmlns:xlink="http://www.w3.org/1999/xlink"><front/><body>{markup}</body></article>'.encode()
    root = assert_jats(jats.to_xml(view, galley=jats.Galley(kind, data)))  # type: ignore[arg-type]
    # What a galley said may stay as text ("<script>" in a title is words); never as markup that runs.
    for element in root.iter():
        assert element.tag not in ("script", "img", "math", "fig", "graphic")
        assert not any(name.startswith("on") for name in element.attrib)
        assert not any(v.strip().lower().startswith("javascript:") for v in element.attrib.values())
