"""HTML pages: home and record landing pages. Light, no JavaScript, no external assets."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from ..domain import multilingual
from ..domain.access import Viewer
from ..domain.errors import Gone, NotFound
from ..domain.identifiers import orcid_url
from ..formats import RecordView, citation, registry, schemaorg, scholar
from ..formats.links import identifier_url, rights_url
from ..services import access, communities, explore, exports, records, search, stats
from ..services.node import Node
from . import curation as curation_pages
from . import i18n, negotiation, notify, panels, problems, signposting, usage
from .deps import NodeDep, ViewerDep
from .files import send_file
from .templating import templates

router = APIRouter(include_in_schema=False)
RECENT = 10  # records listed on the home page; the search page and feeds go further


@router.get("/", response_class=HTMLResponse)
def home(request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    page = records.list_records(node, viewer, size=RECENT)
    search.name_origins(node, page.items)
    context = {"node": node, "items": page.items, "stats": stats.totals(node)}
    return templates.TemplateResponse(request, "home.html", context, headers={"Link": notify.inbox_link(node)})


HTML = "text/html"
# What the record URL offers, in the server's order of preference: the page first, for browsers and */*.
OFFERED = [HTML] + [f.media_type for f in registry.negotiable()]
_BY_MEDIA_TYPE = {f.media_type: f for f in registry.negotiable()}


def _not_acceptable(request: Request, offered: list[str]) -> Response:
    response = problems.problem(
        406,
        f"this resource is available as {', '.join(offered)}",
        request.url.path,
        supported=offered,
    )
    response.headers["Vary"] = "Accept"
    return response


def _export_response(view: RecordView, export: registry.Format, headers: dict[str, str]) -> Response:
    return Response(exports.render(view, export.name), media_type=export.content_type, headers=headers)


@router.api_route("/records/{any_id}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def landing(any_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    chosen = negotiation.choose(request.headers.get("accept"), OFFERED)
    if chosen is None:
        return _not_acceptable(request, OFFERED)
    try:
        version = records.get_version(node, any_id, viewer)
    except Gone as gone:
        if chosen != HTML:
            raise
        return templates.TemplateResponse(
            request,
            "tombstone.html",
            {"node": node, "tombstone": gone.tombstone},
            status_code=410,
            headers={"Vary": "Accept"},
        )
    view = exports.record_view(node, version, viewer)
    links = signposting.header(signposting.landing_links(node, version, view))
    # The node's LDN inbox (COAR Notify), where reviews and relationships of this record may be sent.
    headers = {"Vary": "Accept", "Link": f"{links}, {notify.inbox_link(node)}"}
    if chosen != HTML:
        export = _BY_MEDIA_TYPE[chosen]
        headers["Content-Location"] = exports.export_url(node, version, export.name)
        return _export_response(view, export, headers)
    if request.method == "GET" and version.state.value == "published":
        usage.note(request, node, version.record_id, usage.events.INVESTIGATION, viewer)
    reader = i18n.reader_language(request)
    context = {
        "node": node,
        "version": version,
        "view": view,
        "meta": view.metadata,
        "title": multilingual.preferred_title(view.metadata.titles, reader),
        "title_lang": multilingual.preferred_title_lang(view.metadata.titles, reader),
        "files_allowed": access.files_allowed(node, version, viewer),
        "download_urls": {f.key: f.download_url for f in view.files},
        "versions": records.list_versions(node, any_id, viewer),
        "licences": [(r, rights_url(r)) for r in view.metadata.rightsList],
        "related": [
            (r, identifier_url(r.relatedIdentifierType, r.relatedIdentifier)) for r in view.metadata.relatedIdentifiers
        ],
        "citation": citation.to_text(view),
        "citations": _citations(view),
        "exports": [(e, exports.export_url(node, version, e.name)) for e in registry.exports(view.kind)],
        "json_ld": schemaorg.to_script(view, inbox=notify.partners.own_inbox(node)),
        "scholar_tags": scholar.meta_tags(view),
        "orcid_url": orcid_url,
        "this_node": node.settings.node_name,
        "panels": panels.panels_for(request, node, version, viewer),
        "communities": communities.of_record(node, version.record_id),
        "previewable": {entry.key for entry, _ in explore.explorable(version)},
        "summary": next((d.description for d in view.metadata.descriptions), "")[:300],
        **curation_pages.record_curation(node, viewer, version.owner_id, version.record_id),
        "submitted": request.query_params.get("submitted", ""),
    }
    return templates.TemplateResponse(request, "record.html", context, headers=headers)


def _citations(view: RecordView) -> list[tuple[str, str, str]]:
    """(id, style name, text) of every citation style the node writes, for "Copy citation"."""
    return [
        ("apa", "APA", citation.to_text(view)),
        ("bibtex", "BibTeX", citation.to_bibtex(view).strip()),
        ("ris", "RIS", citation.to_ris(view).strip()),
        ("csl-json", "CSL-JSON", json.dumps(citation.to_csl_json(view), indent=1, ensure_ascii=False)),
    ]


@router.get("/records/{any_id}/export/{name}")
def export(any_id: str, name: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    chosen = registry.FORMATS.get(name)
    if chosen is None:
        raise NotFound(f"no export format '{name}'; this node offers {', '.join(registry.FORMATS)}")
    version = access.readable_version(node, any_id, viewer)
    view = exports.record_view(node, version, viewer)
    if not chosen.describes(view.kind):
        raise NotFound(f"'{name}' describes {', '.join(sorted(chosen.kinds or ()))} records; this one is a {view.kind}")
    filename = f"{version.id}.{chosen.extension}"
    headers = {
        "Content-Disposition": f'inline; filename="{filename}"',
        "Link": f'<{exports.landing_url(node, version)}> ; rel="describes" ; type="text/html"',
    }
    return _export_response(view, chosen, headers)


LINKSET_TYPES = [signposting.LINKSET_JSON, signposting.LINKSET_TEXT]


@router.api_route("/records/{any_id}/linkset", methods=["GET", "HEAD"])
def linkset(any_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    chosen = negotiation.choose(request.headers.get("accept"), LINKSET_TYPES)
    if chosen is None:
        return _not_acceptable(request, LINKSET_TYPES)
    version = access.readable_version(node, any_id, viewer)
    view = exports.record_view(node, version, viewer)
    headers = {"Vary": "Accept"}
    if chosen == signposting.LINKSET_TEXT:
        return Response(signposting.linkset_text(node, version, view), media_type=chosen, headers=headers)
    body = json.dumps(signposting.linkset_json(node, version, view), ensure_ascii=False, indent=1)
    return Response(body, media_type=chosen, headers=headers)


@router.api_route("/records/{any_id}/files/{key}", methods=["GET", "HEAD"])
def file(any_id: str, key: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    response = send_file(node, request, any_id, key, viewer)
    # The file was served, so its version is readable: point back to its landing page.
    version = access.readable_version(node, any_id, viewer)
    response.headers["Link"] = signposting.header(signposting.file_links(node, version))
    return response
