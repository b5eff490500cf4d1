"""The multilingual interface: language choice, right-to-left layout, complete catalogs, metadata in the
reader's language, and the page budget in every language."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from babel.dates import format_date
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from lxml import html

from osnode.domain import multilingual
from osnode.domain.metadata import Title
from osnode.services import search as search_service
from osnode.services.node import Node
from osnode.web import i18n
from osnode.web.search import translate_message
from tests.conftest import Account, minimal_metadata
from tests.web.conftest import published_record
from tests.web.test_landing import rich_metadata

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "src" / "osnode" / "web" / "locales"
LANGS = list(i18n.LANGUAGES)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def multilingual_metadata() -> dict[str, Any]:
    return minimal_metadata(
        titles=[
            {"title": "Rainfall at Luanda, 2001-2020", "lang": "en"},
            {"title": "Pluviométrie à Luanda, 2001-2020", "lang": "fr", "titleType": "TranslatedTitle"},
            {"title": "루안다의 강수량, 2001-2020", "lang": "ko", "titleType": "TranslatedTitle"},
        ],
        descriptions=[
            {"description": "Daily rainfall in millimetres.", "descriptionType": "Abstract", "lang": "en"},
            {"description": "Précipitations quotidiennes en millimètres.", "descriptionType": "Abstract", "lang": "fr"},
        ],
    )


def tree(response: Any) -> html.HtmlElement:
    return html.fromstring(response.content)


@pytest.fixture
def pages(client: TestClient, depositor: Account, curator: Account) -> Iterator[dict[str, str]]:
    """One URL of each kind of page: home, landing, search, tombstone."""
    shown = published_record(client, depositor, metadata=multilingual_metadata())
    gone = published_record(client, depositor)
    out = client.post(
        f"/api/records/{gone['id']}/withdraw", json={"reason": "consent revoked"}, headers=curator.headers
    )
    assert out.status_code == 200, out.text
    client.cookies.clear()
    yield {
        "home": "/",
        "landing": f"/records/{shown['id']}",
        "search": "/search?q=rainfall",
        "tombstone": f"/records/{gone['id']}",
    }


# -- choosing the language -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CA,fr;q=0.9,en;q=0.8", "fr"),
        ("de, ko;q=0.5, en;q=0.4", "ko"),
        ("en;q=0.2, ar", "ar"),
        ("es;q=0.3, pt-BR;q=0.7, fr;q=0.5", "pt"),
        ("zh-Hans-CN, en;q=0.5", "zh"),
        ("ar;q=0, fr;q=0.1", "fr"),
        ("xx, yy-ZZ", None),
        ("*", None),
        ("", None),
        ("fr;q=abc, es", "es"),
    ],
)
def test_accept_language_negotiation(header: str, expected: str | None) -> None:
    assert i18n.negotiate(header) == expected


def test_query_beats_cookie_beats_header() -> None:
    assert i18n.choose("ar", "fr", "ko") == "ar"
    assert i18n.choose(None, "fr", "ko") == "fr"
    assert i18n.choose(None, None, "ko") == "ko"
    assert i18n.choose("xx", None, None) == "en"
    assert i18n.choose("xx", "yy", "zz") == "en"
    assert i18n.choose("PT-br", None, None) == "pt"


def test_language_from_accept_language_header(client: TestClient) -> None:
    page = client.get("/search", headers={"Accept-Language": "de;q=1, fr;q=0.5, es;q=0.8"})
    root = tree(page)
    assert root.get("lang") == "es" and root.get("dir") == "ltr"
    assert root.xpath("//h1")[0].text_content() == "Buscar"
    assert "set-cookie" not in page.headers  # only an explicit choice is remembered


def test_query_parameter_is_remembered_in_a_cookie(client: TestClient) -> None:
    first = client.get("/?lang=ar")
    assert tree(first).get("lang") == "ar"
    assert re.match(r"lang=ar;", first.headers["set-cookie"])
    # The cookie now decides, even against the browser's header.
    later = client.get("/search", headers={"Accept-Language": "fr"})
    assert tree(later).get("lang") == "ar"
    again = client.get("/search?lang=ko", headers={"Accept-Language": "fr"})
    assert tree(again).get("lang") == "ko"
    assert tree(client.get("/")).get("lang") == "ko"


def test_unknown_language_falls_back_to_english(client: TestClient) -> None:
    page = client.get("/?lang=xx", headers={"Accept-Language": "tlh, yy;q=0.5"})
    assert page.status_code == 200
    assert tree(page).get("lang") == "en"
    assert "set-cookie" not in page.headers
    assert tree(client.get("/search", cookies={"lang": "qq"})).get("lang") == "en"


def test_lang_is_not_taken_for_a_search_filter(client: TestClient) -> None:
    page = tree(client.get("/search?lang=fr&q=rain"))
    assert not page.xpath("//p[@class='msg']")  # no "there is no filter called 'lang'"


# -- every page: html lang/dir, switch, Vary -------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_has_lang_dir_switch_and_vary(client: TestClient, pages: dict[str, str], lang: str) -> None:
    for name, url in pages.items():
        sep = "&" if "?" in url else "?"
        response = client.get(f"{url}{sep}lang={lang}")
        assert response.status_code == (410 if name == "tombstone" else 200), (name, response.text)
        root = tree(response)
        assert root.get("lang") == lang
        assert root.get("dir") == ("rtl" if lang == "ar" else "ltr")
        links = root.xpath("//header//a[@hreflang]")
        assert [a.get("hreflang") for a in links] == LANGS, name
        for a in links:
            assert a.get("lang") == a.get("hreflang")
            assert a.text_content() == i18n.LANGUAGES[a.get("hreflang")]
        ar = root.xpath("//a[@hreflang='ar']")[0]
        assert ar.text_content() == "العربية"
        assert dict(parse_qsl(urlsplit(ar.get("href")).query))["lang"] == "ar"
        vary = {v.strip().lower() for v in response.headers["vary"].split(",")}
        assert {"accept-language", "cookie"} <= vary, name
        if name in ("landing", "tombstone"):
            assert "accept" in vary


def test_switch_keeps_the_query_string(client: TestClient) -> None:
    root = tree(client.get("/search?q=rain&kind=Dataset&lang=fr"))
    for a in root.xpath("//a[@hreflang]"):
        params = parse_qsl(urlsplit(a.get("href")).query)
        assert ("q", "rain") in params and ("kind", "Dataset") in params
        assert [v for k, v in params if k == "lang"] == [a.get("hreflang")]


def test_css_uses_logical_properties_only(client: TestClient, pages: dict[str, str]) -> None:
    """Physical left/right would stay put in Arabic; logical properties flip with dir=rtl."""
    physical = re.compile(r"(margin|padding|border)-(left|right)|text-align:\s*(left|right)|float:\s*(left|right)")
    for url in pages.values():
        for style in tree(client.get(url + ("&" if "?" in url else "?") + "lang=ar")).xpath("//style"):
            assert not physical.search(style.text or ""), style.text


# -- catalogs --------------------------------------------------------------------------------------


def extracted() -> dict[str, Any]:
    """The messages of every template and web module now, as `make messages` would extract them."""
    with (LOCALES / "babel.cfg").open() as fp:
        method_map, options_map = parse_mapping_cfg(fp)
    found: dict[str, Any] = {}
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map):
        key = message[0] if isinstance(message, tuple) else message
        found[key] = message
    return found


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_extraction_covers_templates_and_python_labels() -> None:
    messages = extracted()
    assert "Copy citation" in messages  # record.html
    assert "Kind" in messages  # FACET_LABELS in search.py
    assert "%(count)s record" in messages and isinstance(messages["%(count)s record"], tuple)


@pytest.mark.parametrize("lang", LANGS)
def test_catalog_is_complete_and_keeps_placeholders(lang: str) -> None:
    with i18n.catalog_path(lang).open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    problems = []
    for key, message in extracted().items():
        entry = catalog.get(key)
        if entry is None:
            problems.append(f"missing: {key!r}")
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {key!r}")
        strings = list(entry.string) if isinstance(entry.string, tuple | list) else [entry.string]
        if isinstance(message, tuple):
            if len(strings) != catalog.num_plurals:
                problems.append(f"needs {catalog.num_plurals} plural forms: {key!r}")
            allowed = placeholders(message[0]) | placeholders(message[1])
            if any(placeholders(s) - allowed or placeholders(s) != placeholders(message[1]) for s in strings):
                problems.append(f"placeholders differ: {key!r} -> {strings!r}")
        elif placeholders(strings[0]) != placeholders(key):
            problems.append(f"placeholders differ: {key!r} -> {strings[0]!r}")
        if not all(s and s.strip() for s in strings):
            problems.append(f"untranslated: {key!r}")
    assert not problems, f"{lang} catalog (run `make messages`, then translate):\n" + "\n".join(problems)


def test_catalogs_compile_and_translate_at_runtime() -> None:
    assert i18n.gettext("fr", "Copy citation") == "Copier la citation"
    assert i18n.gettext("ar", "Copied") == "تم النسخ"
    assert i18n.gettext("ko", "version %(number)s", number=3) == "버전 3"
    assert i18n.gettext("en", "Copied") == "Copied"


# -- what pages show in each language ---------------------------------------------------------------


def test_landing_page_in_arabic_is_translated_and_rtl(client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor)
    root = tree(client.get(f"/records/{version['id']}?lang=ar"))
    assert root.get("dir") == "rtl"
    assert root.get_element_by_id("files").text_content() == "الملفات"
    assert root.get_element_by_id("cite").text_content() == "كيفية الاستشهاد"
    button = root.get_element_by_id("copy-citation")
    assert button.get("type") == "button" and button.get("hidden") is not None
    assert button.text_content() == "انسخ الاستشهاد" and button.get("data-done") == "تم النسخ"
    status = root.get_element_by_id("copy-status")
    assert status.get("aria-live") == "polite"
    assert "Silva" in root.get_element_by_id("citation").text_content()


def test_dates_and_numbers_follow_the_locale(client: TestClient, depositor: Account) -> None:
    files = {"big.bin": b"x" * 1_500_000}
    version = published_record(client, depositor, files)
    published = date.fromisoformat(version["published_at"][:10])
    fr = client.get(f"/records/{version['id']}?lang=fr").text
    assert format_date(published, format="medium", locale="fr") in fr
    assert "1,4 MB" in fr  # decimal comma
    ko = client.get(f"/records/{version['id']}?lang=ko").text
    assert format_date(published, format="medium", locale="ko") in ko
    assert "1.4 MB" in client.get(f"/records/{version['id']}?lang=en").text


@pytest.mark.parametrize(
    "params",
    [
        [("size", "abc")],
        [("page", "x")],
        [("q", '"unbalanced')],
        [("q", "!!!")],
        [("q", "a" * 600)],
        [("nosuch", "1")],
        [("year", "abcd")],
        [("sort", "sideways")],
        [("size", "1000")],
        [("page", "0")],
        [("page", "999999")],
        [("q", "rainfall"), ("page", "50")],
    ],
)
def test_every_search_message_is_translated(node: Node, client: TestClient, depositor: Account, params: list) -> None:
    published_record(client, depositor)
    result = search_service.from_params(node, params)
    assert result.messages, params
    for message in result.messages:
        for lang in ("fr", "ar", "zh"):
            translated = translate_message(message, lang)
            assert translated != message, f"no translation pattern for: {message!r}"
    page = tree(client.get("/search", params=[*params, ("lang", "fr")]))
    shown = [p.text_content() for p in page.xpath("//p[@class='msg']")]
    assert shown and shown == [translate_message(m, "fr") for m in result.messages]


def test_facet_and_sort_labels_are_translated(client: TestClient, depositor: Account) -> None:
    published_record(client, depositor)
    root = tree(client.get("/search?lang=fr"))
    headings = [h.text_content() for h in root.xpath("//aside//h3")]
    assert "Type" in headings and "Accès" in headings
    assert "Jeu de données" in [a.text_content() for a in root.xpath("//aside//a")]
    assert "Plus récents" in [o.text_content() for o in root.xpath("//select[@id='sort']/option")]


def test_home_page_shows_counts_recent_records_and_a_search_box(client: TestClient, depositor: Account) -> None:
    published_record(client, depositor, {"a.csv": b"1\n", "b.csv": b"22\n"})
    published_record(client, depositor, metadata=minimal_metadata(resourceType={"resourceTypeGeneral": "Software"}))
    root = tree(client.get("/?lang=en"))
    stats = " ".join(li.text_content() for li in root.xpath("//ul[@class='stats']/li"))
    assert "2 records" in stats and "Dataset: 1" in stats and "Software: 1" in stats
    assert "3 files" in stats  # the second record has the default one file
    assert root.xpath("//form[@action='/search']//input[@name='q']")
    assert len(root.xpath("//section[@aria-labelledby='recent']//li/a")) == 2
    fr = " ".join(li.text_content() for li in tree(client.get("/?lang=fr")).xpath("//ul[@class='stats']/li"))
    assert "2 enregistrements" in fr and "Logiciel : 1" in fr


# -- metadata in the reader's language --------------------------------------------------------------


def test_preferred_title_is_pure_and_reader_first() -> None:
    titles = [
        Title(title="Rainfall", lang="en"),
        Title(title="Pluviométrie", lang="fr", titleType="TranslatedTitle"),
        Title(title="A subtitle", lang="fr", titleType="Subtitle"),
        Title(title="Chuva", lang="pt-BR", titleType="TranslatedTitle"),
    ]
    assert multilingual.preferred_title(titles, "fr") == "Pluviométrie"
    assert multilingual.preferred_title(titles, "fr-CA") == "Pluviométrie"
    assert multilingual.preferred_title(titles, "pt") == "Chuva"
    assert multilingual.preferred_title(titles, "ko") == "Rainfall"
    assert multilingual.preferred_title(titles, None) == "Rainfall"
    assert multilingual.preferred_title([t.model_dump() for t in titles], "fr") == "Pluviométrie"  # JSON form
    assert multilingual.preferred_title([], "fr") == multilingual.UNTITLED
    # A main title in the reader's language wins over a translation into it.
    both = [Title(title="Chuva (tradução)", lang="pt", titleType="TranslatedTitle"), Title(title="Chuva", lang="pt")]
    assert multilingual.preferred_title(both, "pt") == "Chuva"
    assert multilingual.preferred_title_lang(titles, "fr") == "fr"
    assert [t.title for t in multilingual.reader_first(titles, "fr")] == [
        "Pluviométrie",
        "A subtitle",
        "Rainfall",
        "Chuva",
    ]
    assert multilingual.reader_first(titles, "de") == titles


def test_reader_language_first_on_every_page(client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor, metadata=multilingual_metadata())
    fr = tree(client.get(f"/records/{version['id']}?lang=fr"))
    assert fr.findtext(".//title") == "Pluviométrie à Luanda, 2001-2020"
    h1 = fr.xpath("//h1")[0]
    assert h1.text_content() == "Pluviométrie à Luanda, 2001-2020" and h1.get("lang") == "fr"
    assert "Rainfall at Luanda, 2001-2020" in [p.text_content() for p in fr.xpath("//p[@class='sub']")]
    descriptions = fr.xpath("//section[@class='desc']")
    assert [d.get("lang") for d in descriptions] == ["fr", "en"]
    ko = tree(client.get(f"/records/{version['id']}?lang=ko"))
    assert ko.xpath("//h1")[0].text_content() == "루안다의 강수량, 2001-2020"
    es = tree(client.get(f"/records/{version['id']}?lang=es"))
    assert es.xpath("//h1")[0].text_content() == "Rainfall at Luanda, 2001-2020"  # no Spanish title: the main one
    hits = tree(client.get("/search?q=rainfall&lang=fr")).xpath("//ol[@class='hits']//h3/a")
    assert [a.text_content() for a in hits] == ["Pluviométrie à Luanda, 2001-2020"]
    assert hits[0].get("lang") == "fr"
    home = tree(client.get("/?lang=ko")).xpath("//section[@aria-labelledby='recent']//li/a")
    assert [a.text_content() for a in home] == ["루안다의 강수량, 2001-2020"]


def test_metadata_follows_the_reader_not_the_interface_fallback(client: TestClient, depositor: Account) -> None:
    meta = multilingual_metadata()
    meta["titles"] = [
        {"title": "Pluviométrie à Luanda", "lang": "fr"},
        {"title": "Rainfall at Luanda", "lang": "en", "titleType": "TranslatedTitle"},
        {"title": "Niederschlag in Luanda", "lang": "de", "titleType": "TranslatedTitle"},
    ]
    version = published_record(client, depositor, metadata=meta)
    url = f"/records/{version['id']}"
    # No stated preference: the interface is English, the title the depositor's own.
    plain = tree(client.get(url))
    assert plain.get("lang") == "en" and plain.xpath("//h1")[0].text_content() == "Pluviométrie à Luanda"
    # German has no interface catalog, but the German title is still the one shown first.
    german = tree(client.get(url, headers={"Accept-Language": "de-DE, en;q=0.5"}))
    assert german.get("lang") == "en" and german.xpath("//h1")[0].text_content() == "Niederschlag in Luanda"
    english = tree(client.get(url, headers={"Accept-Language": "en-GB"}))
    assert english.xpath("//h1")[0].text_content() == "Rainfall at Luanda"


# -- weight ------------------------------------------------------------------------------------------


def test_page_budget_in_every_language(client: TestClient, depositor: Account) -> None:
    files = {f"table-{i:02d}.csv": f"{i}\n".encode() for i in range(20)}
    meta = rich_metadata()
    meta["titles"] = meta["titles"] + multilingual_metadata()["titles"][1:]
    version = published_record(client, depositor, files, metadata=meta)
    for lang in LANGS:
        for url in ("/", f"/records/{version['id']}", "/search?q=rainfall", "/search"):
            sep = "&" if "?" in url else "?"
            response = client.get(f"{url}{sep}lang={lang}")
            assert response.status_code == 200
            assert len(gzip.compress(response.content)) < 30 * 1024, (lang, url)
