"""Search and browse (HTML and JSON), Atom feeds, sitemap and robots.txt.

The search page is a plain GET form with facet links, so it works without JavaScript and every
result page has a URL that can be shared, bookmarked or turned into a feed.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from ..formats import atom, sitemap
from ..services import search
from ..services.node import Node
from . import i18n
from .deps import NodeDep
from .i18n import N_
from .problems import documented
from .templating import templates

router = APIRouter(responses=documented(401, 422))

# Labels are marked here and translated where they are shown (templates pipe them through ``| t``).
FACET_LABELS = {
    "kind": N_("Kind"),
    "subject": N_("Subject"),
    "year": N_("Year"),
    "licence": N_("Licence"),
    "access": N_("Access"),
    "language": N_("Language"),
    "origin": N_("Origin"),
}
# Facets whose values come from a controlled list the interface translates (the rest are shown as stored).
VOCABULARY_FACETS = frozenset({"kind", "access"})
SORT_LABELS = {"relevance": N_("Relevance"), "newest": N_("Newest"), "title": N_("Title")}
FEED_SIZE = 50

# The search service explains in plain English what it did with odd input. The page shows the same explanation
# in the reader's language: each known sentence is matched and its parts fill the translated one. A sentence
# not listed here (a new one in the service) is still shown, in English, rather than dropped.
_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.S), m)
    for p, m in [
        (
            r"'(?P<raw>.*)' is not a whole number, so page size (?P<default>\d+) is shown\.",
            N_("'%(raw)s' is not a whole number, so a page of %(default)s results is shown."),
        ),
        (
            r"'(?P<raw>.*)' is not a whole number, so page (?P<default>\d+) is shown\.",
            N_("'%(raw)s' is not a whole number, so page %(default)s is shown."),
        ),
        (
            r"The search '(?P<text>.*)' has no words to look for, so every record is shown\.",
            N_("The search '%(text)s' has no words to look for, so every record is shown."),
        ),
        (
            r"The quotation marks do not pair up, so the words were searched one by one\.",
            N_("The quotation marks do not pair up, so the words were searched one by one."),
        ),
        (
            r"Only the first (?P<limit>\d+) characters of the search were used\.",
            N_("Only the first %(limit)s characters of the search were used."),
        ),
        (
            r"There is no filter called '(?P<name>.*)'; it was ignored\. Filters: (?P<names>[a-z, ]*)\.",
            N_("There is no filter called '%(name)s'; it was ignored. Filters: %(names)s."),
        ),
        (
            r"'(?P<value>.*)' is not a year; that filter was ignored\.",
            N_("'%(value)s' is not a year; that filter was ignored."),
        ),
        (
            r"Results cannot be sorted by '(?P<sort>.*)'; sorts: (?P<sorts>[a-z, ]*)\.",
            N_("Results cannot be sorted by '%(sort)s'; sorts: %(sorts)s."),
        ),
        (
            r"A page holds 1 to (?P<most>\d+) results, so (?P<shown>\d+) are shown\.",
            N_("A page holds 1 to %(most)s results, so %(shown)s are shown."),
        ),
        (
            r"Pages are numbered from 1, so page 1 is shown\.",
            N_("Pages are numbered from 1, so page 1 is shown."),
        ),
        (
            r"Only the first (?P<window>[\d,]+) results can be paged through \(page (?P<page>\d+) at this size\);"
            r" narrow the search with words or filters\.",
            N_(
                "Only the first %(window)s results can be paged through (page %(page)s at this size);"
                " narrow the search with words or filters."
            ),
        ),
        (
            r"Nothing matched the words as typed; showing results for '(?P<words>.*)'\.",
            N_("Nothing matched the words as typed; showing results for '%(words)s'."),
        ),
        (
            r"Page (?P<page>\d+) is past the last page \((?P<pages>\d+)\)\.",
            N_("Page %(page)s is past the last page (%(pages)s)."),
        ),
    ]
]


def translate_message(message: str, lang: str) -> str:
    """A search service message in ``lang`` (unknown sentences stay as they are)."""
    for pattern, msgid in _MESSAGES:
        found = pattern.fullmatch(message)
        if found:
            return i18n.gettext(lang, msgid, **found.groupdict())
    return message


_MARK = re.compile(r"</?mark>")


def _params(result: search.SearchResult, **changes: Any) -> list[tuple[str, str]]:
    """The query parameters of ``result`` with ``changes`` applied (None removes a parameter)."""
    state: dict[str, Any] = {"q": result.query, "sort": result.sort, "size": result.size, "page": result.page}
    state.update({k: v for k, v in changes.items() if k in state})
    pairs = [(k, str(v)) for k, v in state.items() if v not in (None, "")]
    filters = {k: list(v) for k, v in result.filters.items()}
    if "toggle" in changes:
        name, value = changes["toggle"]
        chosen = filters.setdefault(name, [])
        if value in chosen:
            chosen.remove(value)
        else:
            chosen.append(value)
    pairs += [(name, value) for name, values in filters.items() for value in values]
    # Defaults stay out of the URL, keeping links short.
    return [
        (k, v)
        for k, v in pairs
        if not (k == "page" and v == "1") and not (k == "size" and v == str(search.DEFAULT_SIZE))
    ]


def _url(path: str, pairs: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(pairs)}" if pairs else path


@router.get("/api/search", tags=["search"], summary="Search records: full text, facets, filters, sorting, pages")
async def api_search(request: Request, node: Node = NodeDep) -> dict[str, Any]:
    """``q`` is plain words and "quoted phrases"; facet parameters (kind, subject, year, licence,
    access, language, origin) may repeat (OR within one facet, AND across facets); ``sort`` is
    relevance, newest or title. Problems with the request are reported in ``messages``."""
    result = await run_in_threadpool(search.from_params, node, list(request.query_params.multi_items()))
    body = result.as_json()
    base = [p for p in _params(result) if p[0] != "page"]
    body["links"] = {
        "self": node.api_url("/search") + ("?" + urlencode(_params(result)) if _params(result) else ""),
        "html": node.settings.public_url + _url("/search", _params(result)),
        "atom": node.settings.public_url + _url("/search.atom", [p for p in base if p[0] != "sort"]),
        "next": (
            node.api_url("/search") + "?" + urlencode(base + [("page", str(result.page + 1))])
            if result.page < result.pages and result.items
            else None
        ),
    }
    return body


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
async def search_page(request: Request, node: Node = NodeDep) -> Response:
    lang = i18n.request_language(request)
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]  # lang is the page's, not a filter
    result = await run_in_threadpool(search.from_params, node, params)
    await run_in_threadpool(search.reader_titles, node, result.items, i18n.reader_language(request))
    facets = []
    for name, values in result.facets.items():
        links = [
            {
                "value": v["value"],
                "label": node.settings.node_name if (name == "origin" and v["value"] == "local") else v["label"],
                "vocabulary": name in VOCABULARY_FACETS,
                "count": v["count"],
                "selected": v["selected"],
                "url": _url("/search", _params(result, page=None, toggle=(name, v["value"]))),
            }
            for v in values
        ]
        if links:
            facets.append({"name": name, "label": FACET_LABELS[name], "links": links})
    selected = [
        {
            "label": FACET_LABELS[name],
            "value": value,
            "vocabulary": name in VOCABULARY_FACETS,
            "url": _url("/search", _params(result, page=None, toggle=(name, value))),
        }
        for name, values in result.filters.items()
        for value in values
    ]
    pager = {
        "prev": _url("/search", _params(result, page=result.page - 1)) if 1 < result.page <= result.pages else None,
        "next": _url("/search", _params(result, page=result.page + 1))
        if result.page < result.pages and result.items
        else None,
    }
    sorts = [
        {"name": s, "label": SORT_LABELS[s], "url": _url("/search", _params(result, sort=s, page=None))}
        for s in search.SORTS
        if s != "relevance" or result.query
    ]
    feed_url = _url("/search.atom", [p for p in _params(result, page=None) if p[0] not in ("sort", "size")])
    context = {
        "node": node,
        "result": result,
        "messages": [translate_message(m, lang) for m in result.messages],
        "facets": facets,
        "selected": selected,
        "pager": pager,
        "sorts": sorts,
        "feed_url": feed_url,
        "hidden": [p for p in _params(result, page=None) if p[0] not in ("q", "sort")],
    }
    return templates.TemplateResponse(request, "search.html", context)


# -- feeds ---------------------------------------------------------------------------------------


def _entries(items: list[dict[str, Any]]) -> list[atom.Entry]:
    entries = []
    for item in items:
        moment = datetime.fromisoformat(item["published_at"]) if item["published_at"] else datetime.now(UTC)
        summary = html.unescape(_MARK.sub("", item["snippet"] or ""))
        entries.append(
            atom.Entry(
                id=item["url"],
                title=item["title"],
                updated=moment,
                published=moment,
                link=item["url"],
                authors=item["creators"],
                summary=summary,
                categories=[item["kind"]] if item["kind"] else [],
            )
        )
    return entries


def _feed(node: Node, title: str, path: str, pairs: list[tuple[str, str]], items: list[dict[str, Any]]) -> bytes:
    base = node.settings.public_url
    self_url = base + _url(path, pairs)
    alternate = base + _url("/search", pairs) if path == "/search.atom" else base + "/"
    return atom.feed(
        feed_id=self_url,
        title=title,
        self_url=self_url,
        alternate_url=alternate,
        author=node.settings.node_name,
        updated=datetime(2000, 1, 1, tzinfo=UTC) if items else datetime.now(UTC),
        entries=_entries(items),
    )


@router.get("/feed.atom", include_in_schema=False)
async def node_feed(node: Node = NodeDep) -> Response:
    items = await run_in_threadpool(search.recent, node, FEED_SIZE)
    body = _feed(node, f"{node.settings.node_name}: new records", "/feed.atom", [], items)
    return Response(body, media_type=atom.MEDIA_TYPE)


@router.get("/search.atom", include_in_schema=False)
async def search_feed(request: Request, node: Node = NodeDep) -> Response:
    """Any search as a feed of its newest matches, so a reader can follow a topic."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in ("sort", "page", "size")]
    result = await run_in_threadpool(search.from_params, node, pairs + [("sort", "newest"), ("size", str(FEED_SIZE))])
    clean_pairs = [p for p in _params(result, page=None) if p[0] not in ("sort", "size")]
    title = f"{node.settings.node_name}: " + (f"search for '{result.query}'" if result.query else "new records")
    return Response(_feed(node, title, "/search.atom", clean_pairs, result.items), media_type=atom.MEDIA_TYPE)


# -- for crawlers ----------------------------------------------------------------------------------


@router.get("/sitemap.xml", include_in_schema=False)
async def sitemap_xml(node: Node = NodeDep) -> Response:
    count = await run_in_threadpool(search.published_count, node)
    if count <= sitemap.MAX_URLS:
        entries = await run_in_threadpool(search.sitemap_entries, node)
        return Response(sitemap.urlset(entries), media_type=sitemap.MEDIA_TYPE)
    parts = -(-count // sitemap.MAX_URLS)
    urls = [f"{node.settings.public_url}/sitemap-{n}.xml" for n in range(1, parts + 1)]
    return Response(sitemap.index(urls), media_type=sitemap.MEDIA_TYPE)


@router.get("/sitemap-{part}.xml", include_in_schema=False)
async def sitemap_part(part: int, node: Node = NodeDep) -> Response:
    entries = await run_in_threadpool(
        search.sitemap_entries, node, sitemap.MAX_URLS, max(part - 1, 0) * sitemap.MAX_URLS
    )
    return Response(sitemap.urlset(entries), media_type=sitemap.MEDIA_TYPE)


@router.get("/robots.txt", response_class=PlainTextResponse, include_in_schema=False)
def robots(node: Node = NodeDep) -> str:
    # Landing pages and files are for everyone; search result pages are endless for a crawler,
    # which finds every record through the sitemap instead.
    return (
        "User-agent: *\n"
        "Allow: /\n"
        "Disallow: /search\n"
        "Disallow: /api/search\n"
        f"Sitemap: {node.settings.public_url}/sitemap.xml\n"
    )
