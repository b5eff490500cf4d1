"""The import readers of the format registry: DataCite JSON (a REST ``dois`` resource or its attributes) and
RO-Crate (ro-crate-metadata.json) back into the node's metadata. Each reads what the node's own writer wrote
(checked through the domain's model), a file as others publish it, and hostile JSON without raising."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from osnode.domain.metadata import parse_metadata
from osnode.formats import RecordView, registry, rocrate_read

DATACITE_JSON = registry.FORMATS["datacite-json"]
RO_CRATE = registry.FORMATS["ro-crate"]

# The shape api.datacite.org answers GET /dois/{doi} with (trimmed to the properties this node keeps).
REST_ANSWER: dict[str, Any] = {
    "data": {
        "id": "10.5061/dryad.8515",
        "type": "dois",
        "attributes": {
            "doi": "10.5061/dryad.8515",
            "identifiers": [{"identifier": "https://doi.org/10.5061/dryad.8515", "identifierType": "DOI"}],
            "creators": [
                {
                    "name": "Ollomo, Benjamin",
                    "nameType": "Personal",
                    "givenName": "Benjamin",
                    "familyName": "Ollomo",
                    "affiliation": [
                        {
                            "name": "Centre International de Recherches Médicales de Franceville",
                            "affiliationIdentifier": "https://ror.org/01wyqb997",
                            "affiliationIdentifierScheme": "ROR",
                        }
                    ],
                    "nameIdentifiers": [
                        {
                            "nameIdentifier": "https://orcid.org/0000-0002-1825-0097",
                            "nameIdentifierScheme": "ORCID",
                            "schemeUri": "https://orcid.org",
                        }
                    ],
                },
                {"name": "Durand, Patrick", "affiliation": ["Institut de Recherche pour le Développement"]},
            ],
            "titles": [{"title": "Data from: A new malaria agent in African hominids."}],
            "publisher": "Dryad",
            "publicationYear": 2011,
            "subjects": [{"subject": "Plasmodium"}, {"subject": "malaria"}],
            "dates": [{"date": "2011", "dateType": "Issued"}],
            "types": {"resourceTypeGeneral": "Dataset", "resourceType": "DataPackage", "schemaOrg": "Dataset"},
            "relatedIdentifiers": [
                {"relatedIdentifier": "19478877", "relatedIdentifierType": "PMID", "relationType": "IsSupplementTo"}
            ],
            "rightsList": [
                {
                    "rights": "Creative Commons Zero v1.0 Universal",
                    "rightsUri": "https://creativecommons.org/publicdomain/zero/1.0/legalcode",
                    "rightsIdentifier": "cc0-1.0",
                    "rightsIdentifierScheme": "SPDX",
                },
                {"rightsUri": "info:eu-repo/semantics/openAccess"},
            ],
            "descriptions": [{"description": "Plasmodium falciparum...", "descriptionType": "Abstract"}],
            "fundingReferences": [{"funderName": "Agence Nationale de la Recherche", "awardNumber": "ANR-08"}],
            "url": "http://datadryad.org/stash/dataset/doi:10.5061/dryad.8515",
            "schemaVersion": "http://datacite.org/schema/kernel-4",
        },
    }
}

# An RO-Crate 1.1 as the specification's examples write one: entities linked by @id.
CRATE: dict[str, Any] = {
    "@context": "https://w3id.org/ro/crate/1.1/context",
    "@graph": [
        {
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"},
            "about": {"@id": "./"},
        },
        {
            "@id": "./",
            "@type": "Dataset",
            "name": "Rainfall at Huambo, 2001-2020",
            "description": "Daily rainfall.\nTwo stations.",
            "datePublished": "2024-03-01",
            "license": {"@id": "https://spdx.org/licenses/CC-BY-4.0"},
            "author": [{"@id": "https://orcid.org/0000-0002-1825-0097"}, {"@id": "#lee"}],
            "keywords": "rainfall, Angola",
            "identifier": "https://doi.org/10.1234/huambo",
            "funder": {"@id": "#fct"},
            "hasPart": [{"@id": "rain.csv"}],
        },
        {
            "@id": "https://orcid.org/0000-0002-1825-0097",
            "@type": "Person",
            "name": "Josiah Carberry",
            "affiliation": {"@id": "https://ror.org/05gq02987"},
        },
        {"@id": "#lee", "@type": "Person", "familyName": "Lee", "givenName": "Min"},
        {"@id": "https://ror.org/05gq02987", "@type": "Organization", "name": "Brown University"},
        {"@id": "#fct", "@type": "Organization", "name": "Fundação para a Ciência e a Tecnologia"},
        {"@id": "rain.csv", "@type": "File", "name": "rain.csv"},
    ],
}


def _checked(meta: dict[str, Any]) -> Any:
    """What the reader returned, through the node's own model (as a deposit would be)."""
    return parse_metadata(meta)


def test_datacite_json_reads_back_what_the_node_wrote(rich: RecordView) -> None:
    back = _checked(DATACITE_JSON.read(DATACITE_JSON.write(rich)))  # type: ignore[misc]
    want = rich.metadata
    assert [t.title for t in back.titles] == [t.title for t in want.titles]
    assert [(c.name, c.orcid) for c in back.creators] == [(c.name, c.orcid) for c in want.creators]
    assert [[a.ror for a in c.affiliations] for c in back.creators] == [
        [a.ror for a in c.affiliations] for c in want.creators
    ]
    assert [(c.name, c.contributorType) for c in back.contributors] == [
        (c.name, c.contributorType) for c in want.contributors
    ]
    assert [s.subject for s in back.subjects] == [s.subject for s in want.subjects]
    assert [d.description for d in back.descriptions] == [d.description for d in want.descriptions]
    assert [f.funderName for f in back.fundingReferences] == [f.funderName for f in want.fundingReferences]
    assert back.geoLocations == want.geoLocations
    assert back.doi == want.doi and back.resourceType == want.resourceType and back.language == want.language
    assert {r.rightsIdentifier for r in back.rightsList if r.rightsIdentifier} == {
        r.rightsIdentifier for r in want.rightsList if r.rightsIdentifier
    }


def test_datacite_json_reads_a_rest_answer() -> None:
    meta = DATACITE_JSON.read(json.dumps(REST_ANSWER).encode())  # type: ignore[misc]
    back = _checked(meta)
    assert back.doi and back.doi.endswith("10.5061/dryad.8515")
    assert back.creators[0].orcid and back.creators[0].orcid.endswith("0000-0002-1825-0097")
    assert back.creators[0].affiliations[0].ror and back.creators[0].affiliations[0].ror.endswith("01wyqb997")
    assert back.creators[1].affiliations[0].name == "Institut de Recherche pour le Développement"
    assert back.publisher is not None and back.publisher.name == "Dryad" and back.publicationYear == 2011
    assert back.resourceType is not None and back.resourceType.resourceTypeGeneral == "Dataset"
    # The access term is the other repository's claim, not a licence.
    assert [r.rightsUri for r in back.rightsList] == ["https://creativecommons.org/publicdomain/zero/1.0/legalcode"]
    # The DOI's own URL is not kept as an alternate identifier.
    assert back.alternateIdentifiers == []


def test_ro_crate_reads_back_what_the_node_wrote(rich: RecordView) -> None:
    crate = json.loads(RO_CRATE.write(rich))
    assert rocrate_read.is_crate(crate)
    back = _checked(RO_CRATE.read(crate))  # type: ignore[misc]
    assert back.titles[0].title == rich.metadata.main_title()
    orcids = [c.orcid for c in back.creators if c.orcid]
    assert orcids == [c.orcid for c in rich.metadata.creators if c.orcid]
    assert back.descriptions[0].description == rich.metadata.descriptions[0].description


def test_ro_crate_reads_a_crate_as_others_write_it() -> None:
    back = _checked(RO_CRATE.read(json.dumps(CRATE).encode()))  # type: ignore[misc]
    assert back.titles[0].title == "Rainfall at Huambo, 2001-2020"
    assert back.descriptions[0].description == "Daily rainfall.\nTwo stations."
    first, second = back.creators
    assert (first.name, first.orcid) == ("Josiah Carberry", "0000-0002-1825-0097")
    assert first.affiliations[0].name == "Brown University" and first.affiliations[0].ror
    assert (second.familyName, second.givenName) == ("Lee", "Min")
    assert back.rightsList[0].rightsIdentifier and back.rightsList[0].rightsIdentifier.lower() == "cc-by-4.0"
    assert [s.subject for s in back.subjects] == ["rainfall", "Angola"]
    assert back.publicationYear == 2024 and back.doi and back.doi.endswith("10.1234/huambo")
    assert back.fundingReferences[0].funderName == "Fundação para a Ciência e a Tecnologia"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=30,
)
KEYS = st.sampled_from(
    ["creators", "titles", "types", "publisher", "publicationYear", "rightsList", "geoLocations", "affiliation",
     "@graph", "@id", "about", "author", "license", "name", "identifier", "data", "attributes", "keywords"]
)  # fmt: skip
SHAPED = st.dictionaries(KEYS, JSON | st.lists(st.dictionaries(KEYS, JSON, max_size=4), max_size=3), max_size=8)


@settings(max_examples=300, deadline=None)
@given(doc=SHAPED)
def test_hostile_json_never_breaks_a_reader(doc: dict[str, Any]) -> None:
    for reader in (DATACITE_JSON.read, RO_CRATE.read):
        meta = reader(doc)  # type: ignore[misc]
        assert isinstance(meta, dict)
        json.dumps(meta)  # plain JSON: the form and the model take it from here
