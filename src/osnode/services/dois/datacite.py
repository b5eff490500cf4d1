"""The DataCite REST API (JSON:API), as a registrar: create a draft DOI, then update its metadata and move
it between states with an event (``publish`` -> findable, ``register`` -> registered, ``hide`` -> registered
from findable). Every answer is sorted into what the job must do: done, retry later, or give up with the
registry's reasons (a 422 names what is wrong with the metadata; sending it again would not help).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

JSON_API = "application/vnd.api+json"
TIMEOUT = 60.0
TAKEN = "has already been taken"


@dataclass(frozen=True)
class Answer:
    ok: bool = False
    retry: bool = False  # a passing trouble: the link, the registry's load, its credentials check
    taken: bool = False  # the DOI exists there already (we created it and lost the answer)
    missing: bool = False  # the registry does not know the DOI: create it first
    error: str = ""
    wait: float | None = None  # seconds the registry asked us to wait (Retry-After)
    state: str | None = None


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    found = body.get("errors") if isinstance(body, dict) else None
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


def _reasons(errors: list[dict[str, Any]], response: httpx.Response) -> str:
    parts = [f"{e.get('source', '')}: {e.get('title', '')}".strip(": ") for e in errors]
    return "; ".join(p for p in parts if p) or f"{response.status_code} {response.text[:300]}"


def _wait(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def classify(response: httpx.Response) -> Answer:
    status = response.status_code
    if status in (200, 201):
        data = response.json().get("data") or {}
        return Answer(ok=True, state=(data.get("attributes") or {}).get("state"))
    errors = _errors(response)
    reasons = _reasons(errors, response)
    if status == 422 and any(TAKEN in str(e.get("title", "")) for e in errors):
        return Answer(taken=True, error=reasons)
    if status == 404:
        return Answer(missing=True, error=reasons)
    if status in (401, 403):
        return Answer(retry=True, error=f"the registry refused the node's credentials ({status}): {reasons}")
    if status == 429 or status >= 500 or status == 408:
        return Answer(retry=True, error=f"{status}: {reasons}", wait=_wait(response))
    return Answer(error=f"{status}: {reasons}")


class DataCite:
    def __init__(self, base_url: str, user: str, password: str, transport: httpx.BaseTransport | None = None):
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=(user, password),
            headers={"Content-Type": JSON_API, "Accept": JSON_API},
            timeout=TIMEOUT,
            follow_redirects=False,
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def _send(self, method: str, path: str, attributes: dict[str, Any]) -> Answer:
        body = {"data": {"type": "dois", "attributes": attributes}}
        try:
            return classify(self.http.request(method, path, json=body))
        except httpx.HTTPError as exc:
            return Answer(retry=True, error=f"cannot reach the registry: {exc}")

    def create_draft(self, doi: str) -> Answer:
        return self._send("POST", "/dois", {"doi": doi})

    def update(self, doi: str, attributes: dict[str, Any], event: str) -> Answer:
        return self._send("PUT", f"/dois/{quote(doi, safe='/')}", {**attributes, "doi": doi, "event": event})
