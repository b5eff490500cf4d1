"""The reader's language: which one a request gets, its gettext catalog, and locale-aware formatting.

Choice, per request: ``?lang=xx`` (remembered in a cookie), else that cookie, else Accept-Language (Babel's
negotiation over the q-ordered list), else English. Catalogs are the ``.po`` files under ``locales/``, read
with Babel and compiled in memory the first time a language is asked for: there is no build step and no
binary ``.mo`` file to forget to regenerate, and a translator's edit shows up on the next start.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import io
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from fastapi import Request
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

LOCALE_DIR = Path(__file__).parent / "locales"
DEFAULT = "en"
# Each language named in itself, as a reader looking for their own language expects to find it.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "ar": "العربية",
    "zh": "中文",
    "ko": "한국어",
}
RTL = frozenset({"ar"})
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
VARY = ("Accept-Language", "Cookie")


def N_(message: str) -> str:  # noqa: N802 - the gettext convention extractors look for
    """Mark a string for extraction where it is defined; it is translated where it is shown."""
    return message


# -- which language ------------------------------------------------------------------------------


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags of an Accept-Language header, best first (q=0 and '*' dropped, ties keep their order)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if 0 < q <= 1:
            ranked.append((-q, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def supported(tag: str | None) -> str | None:
    """The interface language for one tag ('pt-BR' -> 'pt', 'AR' -> 'ar'), or None."""
    if not tag:
        return None
    return negotiate(tag)


def negotiate(accept_language: str | None) -> str | None:
    preferred = [t.replace("_", "-") for t in parse_accept_language(accept_language)]
    # Babel matches exact tags case-insensitively, then falls back to the primary subtag of each.
    found = negotiate_locale(preferred, list(LANGUAGES), sep="-")
    if found is None:
        # 'zh-Hans-CN' has a script subtag; Babel only strips one level, so also try the languages alone.
        found = negotiate_locale([t.split("-", 1)[0] for t in preferred], list(LANGUAGES), sep="-")
    return found.lower() if found else None


def choose(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> str:
    return supported(query_lang) or supported(cookie_lang) or negotiate(accept_language) or DEFAULT


def request_language(request: Request) -> str:
    cached = getattr(request.state, "lang", None)
    if cached is None:
        cached = choose(
            request.query_params.get("lang"), request.cookies.get(COOKIE), request.headers.get("accept-language")
        )
        node = getattr(request.app.state, "node", None)
        offered = node.settings.languages if node is not None else ()
        if offered and cached not in offered:  # the administrator offers fewer languages (/admin/settings)
            cached = offered[0]
        request.state.lang = cached
    return cached


def reader_language(request: Request) -> str | None:
    """The language the reader asked for (link, cookie or browser), or None when they stated none.

    Metadata uses this, not the interface's fallback: a client that sends no preference sees a record's
    titles in the order the depositor gave them, rather than an English translation promoted by default. The
    browser's first language counts even when the interface has no catalog for it: a German reader gets a
    record's German title inside the English interface."""
    if supported(request.query_params.get("lang")) or supported(request.cookies.get(COOKIE)):
        return request_language(request)
    preferred = parse_accept_language(request.headers.get("accept-language"))
    return preferred[0] if preferred else None


def direction(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"


def switch_links(request: Request, current: str) -> list[dict[str, Any]]:
    """One link per language, keeping the rest of the query string (a search stays the same search)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    node = getattr(request.app.state, "node", None)
    offered = (node.settings.languages if node is not None else ()) or tuple(LANGUAGES)  # the admin's choice
    return [
        {"code": code, "name": name, "href": "?" + urlencode([*kept, ("lang", code)]), "current": code == current}
        for code, name in LANGUAGES.items()
        if code in offered or code == current
    ]


# -- catalogs ------------------------------------------------------------------------------------


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> stdlib_gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English and missing catalogs: the strings as written)."""
    path = catalog_path(lang)
    if lang == DEFAULT or not path.exists():
        return stdlib_gettext.NullTranslations()
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries stay out, as msgfmt would leave them
    compiled.seek(0)
    return Translations(compiled)


def gettext(lang: str, message: str, **variables: Any) -> str:
    """Translate in Python code (labels, messages) with the same %(name)s placeholders as templates."""
    text = translations(lang).gettext(message)
    return text % variables if variables else text


def _newstyle(func: Callable[..., str], plural: bool = False) -> Callable[..., str]:
    """Jinja's newstyle gettext over ``func``: autoescaped, always %-formatted with keyword arguments."""
    if plural:

        @pass_context
        def ngettext(ctx: Context, singular: str, plural_: str, num: int, **variables: Any) -> str:
            variables.setdefault("num", num)
            text = func(singular, plural_, num)
            return (Markup(text) if ctx.eval_ctx.autoescape else text) % variables

        return ngettext

    @pass_context
    def gettext_(ctx: Context, message: str, **variables: Any) -> str:
        text = func(message)
        return (Markup(text) if ctx.eval_ctx.autoescape else text) % variables

    return gettext_


# -- formatting ----------------------------------------------------------------------------------


def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def format_number(value: int | float, lang: str = DEFAULT) -> str:
    return format_decimal(value, locale=_locale(lang))


def format_size(n: int, lang: str = DEFAULT) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            shown = format_decimal(size, format="#,##0" if unit == "B" else "#,##0.0", locale=_locale(lang))
            return f"{shown} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def format_when(value: Any, lang: str = DEFAULT, with_time: bool = False) -> str:
    """A date (or ISO date text) in the reader's style; a bare year or anything unparseable is shown as is."""
    if value is None or value == "":
        return ""
    moment = value
    if isinstance(value, str):
        text = value.strip()
        if len(text) < 10:
            return text  # '2021' or '2021-05': DataCite allows partial dates, keep them as written
        try:
            moment = datetime.fromisoformat(text) if with_time or len(text) > 10 else date.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(moment, datetime):
        if with_time:
            return format_datetime(moment, format="medium", locale=_locale(lang))
        moment = moment.date()
    if isinstance(moment, date):
        return format_date(moment, format="medium", locale=_locale(lang))
    return str(value)


def context(request: Request) -> dict[str, Any]:
    """What every page's template gets: the translations and the language of this request."""
    lang = request_language(request)
    catalog = translations(lang)
    return {
        "gettext": _newstyle(catalog.gettext),
        "ngettext": _newstyle(catalog.ngettext, plural=True),
        # ui_ names keep clear of what pages pass themselves (a record's 'language', a 'dir' of source code).
        "ui_lang": lang,
        "ui_dir": direction(lang),
        "ui_languages": switch_links(request, lang),
        "reader_lang": reader_language(request),
    }


def response_headers(request: Request, headers: dict[str, str]) -> dict[str, str]:
    """Vary and Set-Cookie for an HTML page rendered for ``request``; ``headers`` are the page's own."""
    merged = dict(headers)
    present = [v.strip() for v in merged.get("Vary", merged.get("vary", "")).split(",") if v.strip()]
    merged.pop("vary", None)
    lowered = {v.lower() for v in present}
    merged["Vary"] = ", ".join(present + [v for v in VARY if v.lower() not in lowered])
    return merged


def remember(request: Request, set_cookie: Callable[..., None]) -> None:
    """Keep an explicit ``?lang=`` choice for the next pages (a reader picks a language once)."""
    chosen = supported(request.query_params.get("lang"))
    if chosen and chosen != request.cookies.get(COOKIE):
        set_cookie(COOKIE, chosen, max_age=COOKIE_MAX_AGE, path="/", samesite="lax", httponly=True)


# -- words from controlled vocabularies that pages show ------------------------------------------

LABELS: dict[str, str] = {
    # DataCite resourceTypeGeneral (the record's kind)
    "Audiovisual": N_("Audiovisual"),
    "Award": N_("Award"),
    "Book": N_("Book"),
    "BookChapter": N_("Book chapter"),
    "Collection": N_("Collection"),
    "ComputationalNotebook": N_("Computational notebook"),
    "ConferencePaper": N_("Conference paper"),
    "ConferenceProceeding": N_("Conference proceeding"),
    "DataPaper": N_("Data paper"),
    "Dataset": N_("Dataset"),
    "Dissertation": N_("Dissertation"),
    "Event": N_("Event"),
    "Image": N_("Image"),
    "Instrument": N_("Instrument"),
    "InteractiveResource": N_("Interactive resource"),
    "Journal": N_("Journal"),
    "JournalArticle": N_("Journal article"),
    "Model": N_("Model"),
    "OutputManagementPlan": N_("Output management plan"),
    "PeerReview": N_("Peer review"),
    "PhysicalObject": N_("Physical object"),
    "Poster": N_("Poster"),
    "Preprint": N_("Preprint"),
    "Presentation": N_("Presentation"),
    "Project": N_("Project"),
    "Report": N_("Report"),
    "Service": N_("Service"),
    "Software": N_("Software"),
    "Sound": N_("Sound"),
    "Standard": N_("Standard"),
    "StudyRegistration": N_("Study registration"),
    "Text": N_("Text"),
    "Workflow": N_("Workflow"),
    "Other": N_("Other"),
    # access levels
    "open": N_("open"),
    "embargoed": N_("embargoed"),
    "restricted": N_("restricted"),
    "metadata-only": N_("metadata only"),
    # version states
    "draft": N_("draft"),
    "published": N_("published"),
    "withdrawn": N_("withdrawn"),
    # description types
    "Abstract": N_("Abstract"),
    "Methods": N_("Methods"),
    "SeriesInformation": N_("Series information"),
    "TableOfContents": N_("Table of contents"),
    "TechnicalInfo": N_("Technical information"),
}

# DataCite relationType, as the related-works list shows it ("Cites: 10.1080/...").
LABELS.update(
    {
        "IsCitedBy": N_("Is cited by"),
        "Cites": N_("Cites"),
        "IsSupplementTo": N_("Is a supplement to"),
        "IsSupplementedBy": N_("Is supplemented by"),
        "IsContinuedBy": N_("Is continued by"),
        "Continues": N_("Continues"),
        "IsNewVersionOf": N_("Is a new version of"),
        "IsPreviousVersionOf": N_("Is a previous version of"),
        "IsPartOf": N_("Is part of"),
        "HasPart": N_("Has part"),
        "IsPublishedIn": N_("Is published in"),
        "IsReferencedBy": N_("Is referenced by"),
        "References": N_("References"),
        "IsDocumentedBy": N_("Is documented by"),
        "Documents": N_("Documents"),
        "IsCompiledBy": N_("Is compiled by"),
        "Compiles": N_("Compiles"),
        "IsVariantFormOf": N_("Is a variant form of"),
        "IsOriginalFormOf": N_("Is the original form of"),
        "IsIdenticalTo": N_("Is identical to"),
        "HasMetadata": N_("Has metadata"),
        "IsMetadataFor": N_("Is metadata for"),
        "Reviews": N_("Reviews"),
        "IsReviewedBy": N_("Is reviewed by"),
        "IsDerivedFrom": N_("Is derived from"),
        "IsSourceOf": N_("Is the source of"),
        "Describes": N_("Describes"),
        "IsDescribedBy": N_("Is described by"),
        "HasVersion": N_("Has version"),
        "IsVersionOf": N_("Is a version of"),
        "Requires": N_("Requires"),
        "IsRequiredBy": N_("Is required by"),
        "Obsoletes": N_("Obsoletes"),
        "IsObsoletedBy": N_("Is obsoleted by"),
        "Collects": N_("Collects"),
        "IsCollectedBy": N_("Is collected by"),
        "HasTranslation": N_("Has a translation"),
        "IsTranslationOf": N_("Is a translation of"),
    }
)
