"""FAIR Signposting levels 1 and 2, read back with an independent parser: the ``signposting``
package (https://github.com/stain/signposting), over HTTP from a real server and from headers."""

from __future__ import annotations

import json
import warnings

import httpx
from fastapi.testclient import TestClient
from signposting import find_signposting_http, find_signposting_http_link, find_signposting_linkset

from tests.conftest import Account, LiveServer, minimal_metadata
from tests.web.conftest import assert_problem, published_record

METADATA_TYPES = {
    "application/vnd.datacite.datacite+xml",
    "application/vnd.datacite.datacite+json",
    "application/ld+json",
    "application/x-bibtex",
    "application/vnd.citationstyles.csl+json",
    "application/x-research-info-systems",
}
CSV = b"a,b\n1,2\n"


def signposts(response: httpx.Response):  # type: ignore[no-untyped-def]
    return find_signposting_http_link(response.headers.get_list("link"), str(response.url))


def test_landing_page_link_headers(client: TestClient, depositor: Account) -> None:
    meta = minimal_metadata(
        creators=[
            {"familyName": "Silva", "givenName": "Ana", "orcid": "0000-0002-1825-0097"},
            {"familyName": "Kim", "givenName": "Min", "orcid": "0000-0002-1694-233X"},
            {"name": "No ORCID, Person"},
        ]
    )
    version = published_record(client, depositor, {"rain.csv": CSV, "notes.txt": b"hi\n"}, metadata=meta)
    landing = f"http://testserver/records/{version['id']}"
    for url in (f"/records/{version['id']}", f"/records/{version['record_id']}"):
        s = signposts(client.get(url))
        assert s.citeAs.target == landing
        described = {d.type: d.target for d in s.describedBy}
        assert set(described) >= METADATA_TYPES
        assert described["application/ld+json"] == f"{landing}/export/json-ld"
        assert {(i.target, i.type) for i in s.items} == {
            (f"{landing}/files/rain.csv", "text/csv"),
            (f"{landing}/files/notes.txt", "text/plain"),
        }
        assert s.license.target == "https://spdx.org/licenses/CC-BY-4.0.html"
        assert {a.target for a in s.authors} == {
            "https://orcid.org/0000-0002-1825-0097",
            "https://orcid.org/0000-0002-1694-233X",
        }
        assert {t.target for t in s.types} == {"https://schema.org/Dataset", "https://schema.org/AboutPage"}
        assert {(ls.target, ls.type) for ls in s.linksets} == {
            (f"{landing}/linkset", "application/linkset+json"),
            (f"{landing}/linkset", "application/linkset"),
        }
        # Every advertised metadata link works and serves what its type says.
        for media_type, target in described.items():
            got = client.get(target)
            assert got.status_code == 200 and got.headers["content-type"].split(";")[0] == media_type


def test_cite_as_is_the_doi_when_there_is_one(client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor, metadata=minimal_metadata(doi="10.82433/B09Z-4K37"))
    s = signposts(client.get(f"/records/{version['id']}"))
    assert s.citeAs.target.lower() == "https://doi.org/10.82433/b09z-4k37"


def test_software_is_typed_as_software(client: TestClient, depositor: Account) -> None:
    meta = minimal_metadata(resourceType={"resourceTypeGeneral": "Software"})
    version = published_record(client, depositor, metadata=meta)
    s = signposts(client.get(f"/records/{version['id']}"))
    assert {t.target for t in s.types} == {"https://schema.org/SoftwareSourceCode", "https://schema.org/AboutPage"}


def test_file_urls_point_back_to_their_landing_page(client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor, {"rain.csv": CSV})
    landing = f"http://testserver/records/{version['id']}"
    for url in (f"/records/{version['id']}/files/rain.csv", f"/records/{version['record_id']}/files/rain.csv"):
        for response in (client.get(url), client.head(url)):
            assert response.status_code == 200
            s = signposts(response)
            assert s.collection.target == landing and s.collection.type == "text/html"


def test_restricted_files_get_no_item_links(client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor, {"cohort.csv": CSV}, access={"level": "restricted"})
    url = f"/records/{version['id']}"
    assert not signposts(client.get(url)).items
    assert not signposts(client.get(f"{url}/linkset", headers={"Accept": "application/linkset"})).items
    assert "cohort.csv" not in client.get(f"{url}/linkset").text
    owner = signposts(client.get(url, headers=depositor.headers))
    assert [i.target for i in owner.items] == [f"http://testserver{url}/files/cohort.csv"]
    assert_problem(client.get(f"{url}/files/cohort.csv"), 403)


def test_linkset_documents(client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor, {"rain.csv": CSV})
    landing = f"http://testserver/records/{version['id']}"
    document = client.get(f"/records/{version['id']}/linkset")
    assert document.headers["content-type"] == "application/linkset+json"
    contexts = {c["anchor"]: c for c in document.json()["linkset"]}
    assert contexts[landing]["cite-as"] == [{"href": landing}]
    assert contexts[f"{landing}/files/rain.csv"]["collection"] == [{"href": landing, "type": "text/html"}]
    assert contexts[f"{landing}/export/datacite-xml"]["describes"] == [{"href": landing, "type": "text/html"}]
    text = client.get(f"/records/{version['id']}/linkset", headers={"Accept": "application/linkset"})
    assert text.headers["content-type"] == "application/linkset"
    assert f'<{landing}> ; rel="cite-as" ; anchor="{landing}"' in text.text
    body = assert_problem(client.get(f"/records/{version['id']}/linkset", headers={"Accept": "text/html"}), 406)
    assert body["supported"] == ["application/linkset+json", "application/linkset"]


def test_a_signposting_client_reads_a_live_node(
    client: TestClient, depositor: Account, live_server: LiveServer
) -> None:
    """The parser fetches for itself (HEAD for Link headers, GET for linksets) from ``osnode serve``."""
    version = published_record(client, depositor, {"rain.csv": CSV})
    landing = f"{live_server.url}/records/{version['id']}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the parser warns on anything it finds odd
        s = find_signposting_http(f"{live_server.url}/records/{version['record_id']}")
        assert s.citeAs.target == landing
        assert [i.target for i in s.items] == [f"{landing}/files/rain.csv"]
        assert {d.type for d in s.describedBy} >= METADATA_TYPES
        for media_type in ("application/linkset+json", "application/linkset"):
            linkset = find_signposting_linkset(f"{landing}/linkset", media_type)
            about = linkset.for_context(landing)
            assert about.citeAs.target == landing
            assert about.license.target == "https://spdx.org/licenses/CC-BY-4.0.html"
            assert [a.target for a in about.authors] == ["https://orcid.org/0000-0002-1825-0097"]
            assert [i.target for i in about.items] == [f"{landing}/files/rain.csv"]
            assert {d.type for d in about.describedBy} >= METADATA_TYPES
            assert linkset.for_context(f"{landing}/files/rain.csv").collection.target == landing
            described = linkset.for_context(f"{landing}/export/json-ld").describes
            assert [d.target for d in described] == [landing]
        file_links = find_signposting_http(f"{landing}/files/rain.csv")
        assert file_links.collection.target == landing
    assert json.loads(httpx.get(f"{landing}/linkset").text)["linkset"][0]["anchor"] == landing
