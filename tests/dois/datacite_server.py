"""A local DataCite REST API for the tests, checking each request as DataCite's documentation says the API
does (support.datacite.org, "Create DOIs with the REST API", "DOI states", JSON:API) and answering with its
documented bodies, so the node is tested against the rules and not against a stub that accepts anything:

- HTTP Basic auth with the repository id and password, else 401 ``{"errors": [{"status": "401", "title":
  "Bad credentials."}]}``;
- ``Content-Type: application/vnd.api+json`` and a JSON:API body ``{"data": {"type": "dois", "attributes":
  {...}}}``;
- ``POST /dois`` creates a DOI under one of the account's prefixes, once: a DOI that exists is a 422
  ``"This DOI has already been taken"``; without an event it is a draft;
- ``PUT /dois/{doi}`` updates it; the events ``publish`` (-> findable), ``register`` (-> registered) and
  ``hide`` (findable -> registered) need the required properties (doi, url, creators with names, titles,
  publisher, publicationYear, types.resourceTypeGeneral from the controlled list), else 422 with one error per
  property (``{"source": "creators", "title": "Can't be blank", "uid": doi}``); a findable DOI cannot go back
  to draft; an unknown DOI is a 404.

Failures are injected with ``fail``: a status to answer instead (500, 503, 429 with Retry-After, 401), or
``"lose"``: do the work, then answer 500 as if the response had been lost on the way back.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

RESOURCE_TYPES = {
    "Audiovisual", "Award", "Book", "BookChapter", "Collection", "ComputationalNotebook", "ConferencePaper",
    "ConferenceProceeding", "DataPaper", "Dataset", "Dissertation", "Event", "Image", "Instrument",
    "InteractiveResource", "Journal", "JournalArticle", "Model", "OutputManagementPlan", "PeerReview",
    "PhysicalObject", "Preprint", "Project", "Report", "Service", "Software", "Sound", "Standard",
    "StudyRegistration", "Text", "Workflow", "Other",
}  # fmt: skip
EVENTS = {"publish": "findable", "register": "registered", "hide": "registered"}


@dataclass
class Registry:
    user: str
    password: str
    prefixes: tuple[str, ...]
    dois: dict[str, dict[str, Any]] = field(default_factory=dict)
    creations: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    fail: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(status: int, errors: list[dict[str, Any]]) -> tuple[int, dict[str, Any], dict[str, str]]:
    return status, {"errors": errors}, {}


def _required(doi: str, attrs: dict[str, Any]) -> list[dict[str, Any]]:
    problems = []

    def blank(source: str) -> None:
        problems.append({"source": source, "title": "Can't be blank", "uid": doi})

    url = attrs.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        blank("url")
    creators = attrs.get("creators")
    if (
        not isinstance(creators, list)
        or not creators
        or not all(isinstance(c, dict) and c.get("name") for c in creators)
    ):
        blank("creators")
    titles = attrs.get("titles")
    if not isinstance(titles, list) or not titles or not all(isinstance(t, dict) and t.get("title") for t in titles):
        blank("titles")
    publisher = attrs.get("publisher")
    if not (isinstance(publisher, str) and publisher) and not (isinstance(publisher, dict) and publisher.get("name")):
        blank("publisher")
    year = attrs.get("publicationYear")
    if not str(year or "").isdigit() or not 1000 <= int(str(year)) <= 2100:
        problems.append({"source": "publicationYear", "title": "Is invalid", "uid": doi})
    general = (attrs.get("types") or {}).get("resourceTypeGeneral")
    if general not in RESOURCE_TYPES:
        problems.append({"source": "types", "title": f"Resource type general {general!r} is invalid", "uid": doi})
    return problems


def handle(
    reg: Registry, method: str, path: str, headers: Any, raw: bytes
) -> tuple[int, dict[str, Any], dict[str, str]]:
    reg.requests += 1
    if reg.fail:
        injected = reg.fail.pop(0)
        if isinstance(injected, tuple):  # (status, DataCite error list): a documented refusal
            return _error(injected[0], injected[1])
        if injected != "lose":
            extra = {"Retry-After": "0"} if injected == 429 else {}
            return injected, {"errors": [{"status": str(injected), "title": "Injected failure"}]}, extra
    else:
        injected = None
    expected = "Basic " + base64.b64encode(f"{reg.user}:{reg.password}".encode()).decode()
    if headers.get("Authorization") != expected:
        return _error(401, [{"status": "401", "title": "Bad credentials."}])
    if headers.get("Content-Type", "").split(";")[0].strip() != "application/vnd.api+json":
        return _error(415, [{"status": "415", "title": "The content type is not recognized."}])
    try:
        body = json.loads(raw)
        data = body["data"]
        attrs = data["attributes"]
        assert data["type"] == "dois" and isinstance(attrs, dict)
    except (ValueError, KeyError, TypeError, AssertionError):
        return _error(400, [{"status": "400", "title": "You need to provide a payload following the JSONAPI spec"}])
    if method == "POST" and path == "/dois":
        status, answer, extra = _create(reg, attrs)
    elif method == "PUT" and path.startswith("/dois/"):
        status, answer, extra = _update(reg, unquote(path.removeprefix("/dois/")), attrs)
    else:
        return _error(404, [{"status": "404", "title": "The resource you are looking for doesn't exist."}])
    if injected == "lose":
        return 500, {"errors": [{"status": "500", "title": "Internal server error"}]}, {}
    return status, answer, extra


def _resource(doi: str, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "data": {"id": doi, "type": "dois", "attributes": record["attributes"] | {"doi": doi, "state": record["state"]}}
    }


def _create(reg: Registry, attrs: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    doi = str(attrs.get("doi", "")).lower()
    if not doi or not any(doi.startswith(f"{p}/") for p in reg.prefixes):
        return _error(422, [{"source": "doi", "title": "Is invalid", "uid": doi}])
    if doi in reg.dois:
        return _error(422, [{"source": "doi", "title": "This DOI has already been taken", "uid": doi}])
    event = attrs.get("event")
    if event is not None:
        problems = _required(doi, attrs) if event in EVENTS else [{"source": "event", "title": "Is invalid"}]
        if problems:
            return _error(422, problems)
    reg.dois[doi] = {
        "state": EVENTS.get(event, "draft"),
        "attributes": {k: v for k, v in attrs.items() if k != "event"},
    }
    reg.creations[doi] = reg.creations.get(doi, 0) + 1
    return 201, _resource(doi, reg.dois[doi]), {}


def _update(reg: Registry, doi: str, attrs: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    doi = doi.lower()
    record = reg.dois.get(doi)
    if record is None:
        return _error(404, [{"status": "404", "title": "The resource you are looking for doesn't exist."}])
    event = attrs.get("event")
    if event is not None:
        if event not in EVENTS:
            return _error(422, [{"source": "event", "title": "Is invalid", "uid": doi}])
        if event == "hide" and record["state"] != "findable":
            return _error(422, [{"source": "event", "title": "Only findable DOIs can be hidden", "uid": doi}])
        problems = _required(doi, attrs)
        if problems:
            return _error(422, problems)
        record["state"] = EVENTS[event]
    record["attributes"] = record["attributes"] | {k: v for k, v in attrs.items() if k != "event"}
    return 200, _resource(doi, record), {}


class Server:
    """The registry on a real socket; ``stop`` and ``start`` again on the same port (a link going down)."""

    def __init__(self, registry: Registry, port: int) -> None:
        self.registry = registry
        self.port = port
        self.httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        reg = self.registry

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with reg.lock:
                    status, body, extra = handle(reg, self.command, self.path, self.headers, raw)
                out = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.api+json")
                self.send_header("Content-Length", str(len(out)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(out)

            do_POST = do_PUT = _answer  # noqa: N815 - http.server's names

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
