"""HTTP and protocol conformance: Allow on 405, HEAD wherever GET works, an OpenAPI document whose
operations declare their path parameters and whose problems are declared as problem+json, and
OAI-PMH's badVerb for a POST that carries nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from osnode.services.node import Node
from tests.conftest import Account
from tests.web.conftest import PROBLEM, assert_problem, published_record

OAI_NS = {"oai": "http://www.openarchives.org/OAI/2.0/"}
HTTP_METHODS = {"get", "head", "post", "put", "patch", "delete", "options"}


def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def allow_of(response: Any) -> set[str]:
    return {m.strip() for m in response.headers["allow"].split(",")}


# -- 405 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("DELETE", "/api/records", {"GET", "HEAD", "POST"}),  # GET and POST are two routes here
        ("PATCH", "/api/records/abc", {"GET", "HEAD", "PUT", "DELETE"}),
        ("POST", "/api/records/abc/files/data.csv", {"GET", "HEAD", "PUT", "DELETE"}),
        ("GET", "/api/uploads", {"POST", "OPTIONS"}),
        ("PUT", "/oai", {"GET", "HEAD", "POST"}),
        ("POST", "/", {"GET", "HEAD"}),
    ],
)
def test_405_names_every_method_of_the_path(client: TestClient, method: str, path: str, expected: set[str]) -> None:
    response = client.request(method, path)
    assert_problem(response, 405)
    assert allow_of(response) == expected


def test_every_documented_path_answers_an_unknown_method_with_a_complete_allow(client: TestClient) -> None:
    for path, operations in openapi(client)["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        response = client.request("TRACE", concrete)
        assert response.status_code == 405, (path, response.status_code)
        documented = {m.upper() for m in operations if m in HTTP_METHODS}
        assert documented <= allow_of(response), (path, response.headers.get("allow"))


# -- HEAD -----------------------------------------------------------------------------------------


def test_head_gives_the_headers_of_get_without_the_body(client: TestClient, depositor: Account) -> None:
    record = published_record(client, depositor)
    for path in (
        f"/api/records/{record['id']}",
        "/api/records",
        "/api",
        f"/records/{record['id']}",
        "/oai?verb=Identify",
    ):
        got, head = client.get(path), client.head(path)
        assert got.status_code == head.status_code == 200, path
        assert head.content == b"", path
        for header in ("content-type", "content-length"):
            assert head.headers.get(header) == got.headers.get(header), (path, header)
    # A route with its own HEAD (file downloads) keeps it.
    head = client.head(f"/api/records/{record['id']}/files/data.csv")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == "8" and head.headers.get("etag")


def test_head_of_a_missing_record_is_404_without_a_body(client: TestClient) -> None:
    head = client.head("/api/records/nothing-here")
    assert head.status_code == client.get("/api/records/nothing-here").status_code == 404
    assert head.content == b""
    assert head.headers["content-type"] == PROBLEM


def test_head_with_no_get_is_405(client: TestClient) -> None:
    response = client.head("/api/uploads")  # POST and OPTIONS only
    assert response.status_code == 405
    assert allow_of(response) == {"POST", "OPTIONS"}


# -- the OpenAPI document -------------------------------------------------------------------------


def test_every_operation_declares_exactly_its_path_parameters(client: TestClient) -> None:
    for path, operations in openapi(client)["paths"].items():
        in_template = set(re.findall(r"\{([^}]+)\}", path))
        for method, operation in operations.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == in_template, (method, path, declared)


def test_tus_options_declare_their_parameter_and_still_answer(client: TestClient) -> None:
    paths = openapi(client)["paths"]
    for path in ("/api/uploads/{upload_id}", "/api/records/{version_id}/uploads"):
        declared = [p["name"] for p in paths[path]["options"].get("parameters", []) if p["in"] == "path"]
        assert declared == re.findall(r"\{([^}]+)\}", path)
        response = client.options(path.replace("{upload_id}", "abc").replace("{version_id}", "abc"))
        assert response.status_code == 204
        assert response.headers["tus-version"] == "1.0.0"


def test_problems_are_declared_once_as_problem_json(client: TestClient) -> None:
    document = openapi(client)
    schemas = document["components"]["schemas"]
    assert {"type", "title", "status", "detail"} <= set(schemas["Problem"]["properties"])
    assert "HTTPValidationError" not in schemas  # FastAPI's own 422 shape is never sent
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(answer["content"]) == [PROBLEM], (method, path, status)
                    assert answer["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/records/{any_id}", "404"),
        ("GET", "/api/records/{any_id}", "410"),
        ("PUT", "/api/records/{version_id}", "409"),
        ("PUT", "/api/records/{version_id}/files/{key}", "413"),
        ("PATCH", "/api/uploads/{upload_id}", "412"),
        ("GET", "/api/records/{any_id}/files/{key}/profile", "429"),
    ],
)
def test_statuses_the_routes_give_are_documented(client: TestClient, method: str, path: str, status: str) -> None:
    assert status in openapi(client)["paths"][path][method.lower()]["responses"]


# -- OAI-PMH --------------------------------------------------------------------------------------


def oai_error(response: Any) -> str:
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    errors = root.findall("oai:error", OAI_NS)
    assert len(errors) == 1, response.text
    return errors[0].get("code")


def test_oai_post_with_no_body_is_bad_verb(client: TestClient, node: Node) -> None:
    # No arguments at all means no verb, whatever the Content-Type (or none) says.
    assert oai_error(client.post("/oai", content=b"")) == "badVerb"
    assert (
        oai_error(client.post("/oai", content=b"", headers={"Content-Type": "application/x-www-form-urlencoded"}))
        == "badVerb"
    )
    # A body that is there but not a form is still an argument the node cannot read.
    response = client.post("/oai", content=b'{"verb": "Identify"}', headers={"Content-Type": "application/json"})
    assert oai_error(response) == "badArgument"
