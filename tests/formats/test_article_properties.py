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
