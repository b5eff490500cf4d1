"""End to end: an independent OAI-PMH client (oaipmh-scythe, BSD-3-Clause) harvests a live
``osnode serve`` over HTTP, GET and POST, through resumption tokens, sets, dates and deletions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from oaipmh_scythe import Scythe
from oaipmh_scythe.config import HTTPConfig
from oaipmh_scythe.exceptions import (
    BadArgument,
    BadResumptionToken,
    BadVerb,
    CannotDisseminateFormat,
    IdDoesNotExist,
    NoRecordsMatch,
)

from osnode.services import deposit
from osnode.services.node import Node
from tests.conftest import Account, LiveServer, start_server
from tests.oaipmh.conftest import BASE_URL, HOST, oai_id, publish, set_datestamp

LIVE_PAGE = 2
T0 = datetime(2026, 6, 1, 8, 0, 0, tzinfo=UTC)


@pytest.fixture
def server(node: Node, data_dir: Path, database_url: str) -> Iterator[LiveServer]:
    env = {"OSNODE_BASE_URL": BASE_URL, "OSNODE_OAI_PAGE_SIZE": str(LIVE_PAGE)}
    live = start_server(data_dir, database_url, env)
    yield live
    live.stop()


@pytest.fixture
def catalog(node: Node, admin: Account) -> dict[str, list[str]]:
    """Five datasets, a software record and a withdrawn dataset, a day apart."""
    datasets = [publish(node, admin.viewer, files={"d.csv": b"x\n1\n"}) for _ in range(5)]
    software = [publish(node, admin.viewer, resourceType={"resourceTypeGeneral": "Software"})]
    withdrawn = [publish(node, admin.viewer)]
    deposit.withdraw(node, withdrawn[0], admin.viewer, "consent was withdrawn")
    for i, record in enumerate([*datasets, *software, *withdrawn]):
        set_datestamp(node, record, T0 + timedelta(days=i))
    return {"datasets": datasets, "software": software, "withdrawn": withdrawn}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_full_harvest(server: LiveServer, catalog: dict[str, list[str]], method: str) -> None:
    everything = [*catalog["datasets"], *catalog["software"], *catalog["withdrawn"]]
    with Scythe(f"{server.url}/oai", http_config=HTTPConfig(http_method=method)) as scythe:
        identify = scythe.identify()
        assert identify.repositoryName == "Open Science Node"
        assert identify.deletedRecord == "persistent"
        assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
        assert identify.baseURL == f"{BASE_URL}/oai"

        records = list(scythe.list_records(metadata_prefix="oai_dc"))
        assert [r.header.identifier for r in records] == [oai_id(r) for r in everything]
        assert [r.deleted for r in records] == [False] * 6 + [True]
        assert records[0].metadata["title"] == ["Rainfall at Luanda, 2001-2020"]
        assert records[0].metadata["creator"] == ["Silva, Ana"]
        assert records[0].header.datestamp == "2026-06-01T08:00:00Z"

        live = list(scythe.list_records(metadata_prefix="datacite", ignore_deleted=True))
        assert len(live) == 6 and all("kernel-4" in r.raw for r in live)

        wrapped = scythe.get_record(identifier=oai_id(catalog["software"][0]), metadata_prefix="oai_datacite")
        assert "oai_datacite" in wrapped.raw and 'resourceTypeGeneral="Software"' in wrapped.raw

        formats = [f.metadataPrefix for f in scythe.list_metadata_formats(identifier=oai_id(everything[0]))]
        assert formats == ["oai_dc", "oai_datacite", "datacite", "dcat"]
        catalogued = scythe.get_record(identifier=oai_id(everything[0]), metadata_prefix="dcat")
        assert "http://www.w3.org/ns/dcat#Dataset" in catalogued.raw
        specs = [s.setSpec for s in scythe.list_sets()]
        assert "kind:Software" in specs and f"origin:{HOST}" in specs


def test_selective_harvests(server: LiveServer, catalog: dict[str, list[str]]) -> None:
    with Scythe(f"{server.url}/oai") as scythe:
        headers = list(scythe.list_identifiers(metadata_prefix="oai_dc", set_="kind:Dataset"))
        assert [h.identifier for h in headers] == [oai_id(r) for r in [*catalog["datasets"], *catalog["withdrawn"]]]
        assert headers[-1].deleted
        software = list(scythe.list_identifiers(metadata_prefix="oai_dc", set_="kind:Software"))
        assert [h.identifier for h in software] == [oai_id(catalog["software"][0])]
        window = list(scythe.list_identifiers(metadata_prefix="oai_dc", from_="2026-06-02", until="2026-06-04"))
        assert [h.identifier for h in window] == [oai_id(r) for r in catalog["datasets"][1:4]]
        seconds = list(
            scythe.list_identifiers(
                metadata_prefix="oai_dc", from_="2026-06-05T08:00:00Z", until="2026-06-06T08:00:00Z"
            )
        )
        assert [h.identifier for h in seconds] == [oai_id(catalog["datasets"][4]), oai_id(catalog["software"][0])]


def test_the_client_sees_every_error(server: LiveServer, catalog: dict[str, list[str]]) -> None:
    with Scythe(f"{server.url}/oai") as scythe:
        with pytest.raises(IdDoesNotExist):
            scythe.get_record(identifier=oai_id("aaaaa-aaaaa"), metadata_prefix="oai_dc")
        with pytest.raises(CannotDisseminateFormat):
            next(scythe.list_records(metadata_prefix="marc21"))
        with pytest.raises(NoRecordsMatch):
            next(scythe.list_records(metadata_prefix="oai_dc", from_="2030-01-01"))
        with pytest.raises(NoRecordsMatch):
            next(scythe.list_identifiers(metadata_prefix="oai_dc", set_="kind:Poster"))
        with pytest.raises(BadArgument):
            next(scythe.list_records(metadata_prefix="oai_dc", from_="2026-06-02", until="2026-06-01"))
        with pytest.raises(BadResumptionToken):
            next(scythe.list_records(resumption_token="not-a-token"))
        with pytest.raises(BadVerb):
            scythe.harvest({"verb": "ListEverything"})
