"""DataCite-aligned metadata: every problem reported at once with its path; good metadata round-trips."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osnode.domain.errors import FieldError, InvalidInput
from osnode.domain.metadata import Metadata, parse_metadata, publication_errors

GOOD_ORCID = "0000-0002-1825-0097"
GOOD_ROR = "03yrm5c26"


def full_metadata() -> dict[str, Any]:
    """Every property the model knows, each with a valid value (some in forms that get normalized)."""
    return {
        "doi": "https://doi.org/10.5281/zenodo.1234",
        "titles": [
            {"title": "Rainfall at Luanda, 2001-2020", "lang": "en"},
            {"title": "Chuva em Luanda", "lang": "pt-BR", "titleType": "TranslatedTitle"},
        ],
        "creators": [
            {
                "familyName": "Silva",
                "givenName": "Ana",
                "orcid": f"https://orcid.org/{GOOD_ORCID}",
                "affiliations": [{"name": "Universidade Agostinho Neto", "ror": GOOD_ROR}],
            },
            {
                "name": "Angolan Meteorological Service",
                "nameType": "Organizational",
                "nameIdentifiers": [{"nameIdentifier": "X123", "nameIdentifierScheme": "local"}],
            },
        ],
        "contributors": [{"familyName": "Costa", "givenName": "João", "contributorType": "DataCurator"}],
        "publisher": "Universidade Agostinho Neto",
        "publicationYear": 2024,
        "resourceType": {"resourceTypeGeneral": "Dataset", "resourceType": "Time series"},
        "subjects": [{"subject": "Precipitation", "subjectScheme": "GCMD", "lang": "en"}],
        "dates": [
            {"date": "2001-01-01/2020-12-31", "dateType": "Collected"},
            {"date": "2024-03-05T10:00:00Z", "dateType": "Issued", "dateInformation": "first release"},
        ],
        "language": "pt",
        "alternateIdentifiers": [{"alternateIdentifier": "UAN-42", "alternateIdentifierType": "local"}],
        "relatedIdentifiers": [
            {
                "relatedIdentifier": "https://doi.org/10.1000/paper",
                "relatedIdentifierType": "DOI",
                "relationType": "IsSupplementTo",
                "resourceTypeGeneral": "JournalArticle",
            },
            {"relatedIdentifier": "2101.00001", "relatedIdentifierType": "arXiv", "relationType": "References"},
            {
                "relatedIdentifier": "swh:1:dir:" + "a" * 40,
                "relatedIdentifierType": "SWHID",
                "relationType": "IsCompiledBy",
            },
        ],
        "sizes": ["12 MB"],
        "formats": ["text/csv"],
        "version": "1.0",
        "rightsList": [{"rightsIdentifier": "cc-by-4.0"}, {"rights": "Terms of use", "rightsUri": "https://x.org/t"}],
        "descriptions": [
            {"description": "Daily rainfall.", "lang": "en"},
            {"description": "Rain gauges.", "descriptionType": "Methods"},
        ],
        "geoLocations": [
            {"geoLocationPlace": "Luanda"},
            {"geoLocationPoint": {"pointLatitude": -8.8, "pointLongitude": 13.2}},
            {
                "geoLocationBox": {
                    "westBoundLongitude": 11.7,
                    "eastBoundLongitude": 24.1,
                    "southBoundLatitude": -18.0,
                    "northBoundLatitude": -4.4,
                }
            },
        ],
        "fundingReferences": [
            {
                "funderName": "European Commission",
                "funderIdentifier": "https://ror.org/00k4n6c32",
                "funderIdentifierType": "ROR",
                "awardNumber": "101017536",
                "awardUri": "https://cordis.europa.eu/project/id/101017536",
                "awardTitle": "OSN",
            }
        ],
    }


def errors_of(data: Any) -> list[FieldError]:
    with pytest.raises(InvalidInput) as caught:
        parse_metadata(data)
    assert caught.value.errors, "InvalidInput must carry its field errors"
    return caught.value.errors


def paths_of(data: Any) -> set[str]:
    return {error.path for error in errors_of(data)}


# -- every error, with its path, at once ----------------------------------------------------------


def test_every_error_is_reported_with_its_path_at_once() -> None:
    data = full_metadata()
    data["creators"].append({"familyName": "Mbeki", "orcid": "0000-0002-1825-0098"})  # creators.2
    data["creators"][1]["orcid"] = "0000-0002-1825-0096"  # creators.1
    data["creators"][0]["affiliations"][0]["ror"] = "03yrm5c27"
    data["rightsList"][0]["rightsIdentifier"] = "NOT-A-LICENCE-1.0"
    data["dates"][1]["date"] = "2020-13-45"
    data["relatedIdentifiers"][1]["relatedIdentifier"] = "not-arxiv"
    data["creater"] = [{"name": "typo"}]
    data["titles"][1]["titleType"] = "Subheading"
    data["geoLocations"][1]["geoLocationPoint"]["pointLatitude"] = 91
    data["fundingReferences"][0]["funderIdentifier"] = "00k4n6c33"
    data["publicationYear"] = 24
    data["language"] = "not a language"

    errors = errors_of(data)
    assert {e.path for e in errors} == {
        "creators.0.affiliations.0.ror",
        "creators.1.orcid",
        "creators.2.orcid",
        "rightsList.0.rightsIdentifier",
        "dates.1.date",
        "relatedIdentifiers.1.relatedIdentifier",
        "creater",
        "titles.1.titleType",
        "geoLocations.1.geoLocationPoint.pointLatitude",
        "fundingReferences.0.funderIdentifier",
        "publicationYear",
        "language",
    }
    assert len(errors) == 12  # one per problem, no duplicates
    messages = {e.path: e.message for e in errors}
    assert "check digit" in messages["creators.1.orcid"]
    assert "checksum" in messages["creators.0.affiliations.0.ror"]
    assert "NOT-A-LICENCE-1.0" in messages["rightsList.0.rightsIdentifier"]
    assert "2020-13-45" in messages["dates.1.date"]
    assert "not-arxiv" in messages["relatedIdentifiers.1.relatedIdentifier"]
    assert "Subheading" in messages["titles.1.titleType"]
    # A message is written for a person: no pydantic prefix and no leftover "field: " prefix.
    for error in errors:
        assert not error.message.startswith("Value error")
        assert not error.message.startswith(error.path.rsplit(".", 1)[-1] + ":")


def test_invalid_input_detail_counts_the_errors() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_metadata({"creators": [{"orcid": "bad"}], "titles": [{"title": ""}], "unknown": 1})
    assert caught.value.status == 422
    assert "3 error" in caught.value.detail
    assert [e.as_dict()["path"] for e in caught.value.errors] == [
        "titles.0.title",
        "creators.0.orcid",
        "unknown",
    ]


@pytest.mark.parametrize("not_an_object", [[], "titles", 3, None])
def test_metadata_must_be_an_object(not_an_object: Any) -> None:
    assert paths_of(not_an_object) == {"(root)"}


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"titles": [{"title": "x", "subtitle": "y"}]}, "titles.0.subtitle"),
        ({"creators": [{"name": "x", "email": "a@b"}]}, "creators.0.email"),
        ({"creators": [{"name": "x", "affiliations": [{"name": "U", "id": "1"}]}]}, "creators.0.affiliations.0.id"),
        (
            {"geoLocations": [{"geoLocationPoint": {"pointLatitude": 1, "pointLongitude": 1, "z": 0}}]},
            "geoLocations.0.geoLocationPoint.z",
        ),
    ],
)
def test_unknown_properties_are_errors_at_every_depth(data: dict[str, Any], path: str) -> None:
    assert paths_of(data) == {path}


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"resourceType": {"resourceTypeGeneral": "dataset"}}, "resourceType.resourceTypeGeneral"),
        ({"resourceType": "Spreadsheet"}, "resourceType.resourceTypeGeneral"),
        ({"contributors": [{"name": "x", "contributorType": "Boss"}]}, "contributors.0.contributorType"),
        ({"creators": [{"name": "x", "nameType": "Corporate"}]}, "creators.0.nameType"),
        ({"dates": [{"date": "2020", "dateType": "Published"}]}, "dates.0.dateType"),
        ({"descriptions": [{"description": "x", "descriptionType": "Summary"}]}, "descriptions.0.descriptionType"),
        (
            {
                "relatedIdentifiers": [
                    {"relatedIdentifier": "x", "relatedIdentifierType": "ISNI", "relationType": "Cites"}
                ]
            },
            "relatedIdentifiers.0.relatedIdentifierType",
        ),
        (
            {
                "relatedIdentifiers": [
                    {"relatedIdentifier": "10.1/x", "relatedIdentifierType": "DOI", "relationType": "x"}
                ]
            },
            "relatedIdentifiers.0.relationType",
        ),
        (
            {"fundingReferences": [{"funderName": "F", "funderIdentifierType": "DOI"}]},
            "fundingReferences.0.funderIdentifierType",
        ),
        ({"titles": [{"title": "x", "lang": "english language"}]}, "titles.0.lang"),
        ({"doi": "doi.org/nothing"}, "doi"),
        ({"publisher": {"name": "P", "ror": "nope"}}, "publisher.ror"),
        ({"rightsList": [{"rightsUri": "not a url"}]}, "rightsList.0.rightsUri"),
        ({"fundingReferences": [{"funderName": "F", "awardUri": "ftp://x"}]}, "fundingReferences.0.awardUri"),
        ({"titles": [{"title": "   "}]}, "titles.0.title"),
        ({"publicationYear": 10000}, "publicationYear"),
    ],
)
def test_each_vocabulary_and_syntax_check_names_its_field(data: dict[str, Any], path: str) -> None:
    assert paths_of(data) == {path}


@pytest.mark.parametrize(
    "related",
    [
        ("DOI", "10.12/x"),
        ("URL", "www.example.org"),
        ("arXiv", "arXiv:99"),
        ("PMID", "0"),
        ("SWHID", "swh:1:cnt:" + "a" * 40 + ";bogus=1"),
        ("Handle", "handle"),
        ("ISSN", "0317-8472"),
        ("ISBN", "0-306-40615-3"),
        ("LSID", "   "),
    ],
)
def test_bad_related_identifier_reported_on_the_identifier(related: tuple[str, str]) -> None:
    kind, value = related
    data = {
        "relatedIdentifiers": [{"relatedIdentifier": value, "relatedIdentifierType": kind, "relationType": "Cites"}]
    }
    assert paths_of(data) == {"relatedIdentifiers.0.relatedIdentifier"}


# -- good metadata --------------------------------------------------------------------------------


def test_full_metadata_parses_and_normalizes() -> None:
    meta = parse_metadata(full_metadata())
    assert meta.doi == "10.5281/zenodo.1234"
    assert meta.creators[0].orcid == GOOD_ORCID
    assert meta.creators[0].affiliations[0].ror == f"https://ror.org/{GOOD_ROR}"
    assert meta.creators[0].name == "Silva, Ana"
    assert meta.creators[0].nameType == "Personal"
    assert meta.creators[1].nameType == "Organizational"
    assert meta.publisher is not None and meta.publisher.name == "Universidade Agostinho Neto"
    assert meta.kind == "Dataset"
    assert meta.relatedIdentifiers[0].relatedIdentifier == "10.1000/paper"
    assert meta.relatedIdentifiers[1].relatedIdentifier == "arXiv:2101.00001"
    assert meta.licences() == ["CC-BY-4.0"]
    assert meta.rightsList[0].rightsIdentifierScheme == "SPDX"
    assert meta.fundingReferences[0].funderIdentifier == "https://ror.org/00k4n6c32"
    assert meta.main_title() == "Rainfall at Luanda, 2001-2020"
    assert publication_errors(meta) == []


def test_good_metadata_round_trips_through_to_json() -> None:
    first = parse_metadata(full_metadata()).to_json()
    again = parse_metadata(copy.deepcopy(first))
    assert again.to_json() == first
    assert again == parse_metadata(full_metadata())
    # The normalized forms are what is stored.
    assert first["doi"] == "10.5281/zenodo.1234"
    assert first["publisher"] == {"name": "Universidade Agostinho Neto"}
    assert first["creators"][0]["orcid"] == GOOD_ORCID
    assert first["creators"][0]["name"] == "Silva, Ana"
    assert first["rightsList"][0] == {"rightsIdentifier": "CC-BY-4.0", "rightsIdentifierScheme": "SPDX"}
    assert first["descriptions"][1]["descriptionType"] == "Methods"
    # Unset optional values are left out rather than written as null.
    assert "contributors" in first and "nameIdentifiers" not in first["contributors"][0]
    assert all(value is not None for value in first.values())


def test_whitespace_is_stripped() -> None:
    meta = parse_metadata({"titles": [{"title": "  Rain  "}], "creators": [{"name": " Silva, Ana "}]})
    assert meta.titles[0].title == "Rain"
    assert meta.creators[0].name == "Silva, Ana"


def test_main_title_prefers_the_untyped_title() -> None:
    meta = parse_metadata(
        {"titles": [{"title": "Sub", "titleType": "Subtitle"}, {"title": "Main"}, {"title": "Other"}]}
    )
    assert meta.main_title() == "Main"
    assert parse_metadata({"titles": [{"title": "Only", "titleType": "Subtitle"}]}).main_title() == "Only"
    assert parse_metadata({}).main_title() == "(untitled)"


def test_resource_type_and_publisher_accept_plain_strings() -> None:
    meta = parse_metadata({"resourceType": "Software", "publisher": "UAN"})
    assert meta.kind == "Software"
    assert meta.to_json()["resourceType"] == {"resourceTypeGeneral": "Software"}
    assert meta.to_json()["publisher"] == {"name": "UAN"}


# -- licences -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("mit or apache-2.0", "MIT OR Apache-2.0"),
        ("cc-by-4.0", "CC-BY-4.0"),
        ("gpl-3.0-or-later with classpath-exception-2.0", "GPL-3.0-or-later WITH Classpath-exception-2.0"),
        ("(mit and bsd-3-clause) or apache-2.0", "(MIT AND BSD-3-Clause) OR Apache-2.0"),
        ("  CC0-1.0 ", "CC0-1.0"),
    ],
)
def test_spdx_expressions_normalize(given_value: str, expected: str) -> None:
    meta = parse_metadata({"rightsList": [{"rightsIdentifier": given_value}]})
    assert meta.rightsList[0].rightsIdentifier == expected
    assert meta.rightsList[0].rightsIdentifierScheme == "SPDX"


@pytest.mark.parametrize("bad", ["FOO-1.0", "MIT OR", "MIT AND AND", "(MIT", "MIT OR FOO", "WITH"])
def test_bad_spdx_expressions_are_field_errors(bad: str) -> None:
    errors = errors_of({"rightsList": [{"rightsIdentifier": "MIT"}, {"rightsIdentifier": bad}]})
    assert [e.path for e in errors] == ["rightsList.1.rightsIdentifier"]


def test_non_spdx_rights_identifiers_are_not_checked_against_spdx() -> None:
    meta = parse_metadata({"rightsList": [{"rightsIdentifier": "house-licence-7", "rightsIdentifierScheme": "local"}]})
    assert meta.rightsList[0].rightsIdentifier == "house-licence-7"
    assert meta.licences() == ["house-licence-7"]


def test_rights_need_something() -> None:
    assert paths_of({"rightsList": [{"lang": "en"}]}) == {"rightsList.0"}
    assert parse_metadata({"rightsList": [{"rights": "All rights reserved"}]}).licences() == []


# -- publication ----------------------------------------------------------------------------------

MANDATORY = ["titles", "creators", "publisher", "publicationYear", "resourceType"]


def complete() -> dict[str, Any]:
    return {
        "titles": [{"title": "T"}],
        "creators": [{"name": "C"}],
        "publisher": "P",
        "publicationYear": 2024,
        "resourceType": "Dataset",
    }


def test_complete_metadata_has_no_publication_errors() -> None:
    assert publication_errors(parse_metadata(complete())) == []


def test_empty_metadata_lists_every_missing_mandatory_property() -> None:
    errors = publication_errors(parse_metadata({}))
    assert [e.path for e in errors] == MANDATORY
    assert all(e.message for e in errors)


@pytest.mark.parametrize("missing", MANDATORY)
def test_each_missing_mandatory_property_is_listed(missing: str) -> None:
    data = complete()
    del data[missing]
    assert [e.path for e in publication_errors(parse_metadata(data))] == [missing]


@pytest.mark.parametrize("emptied", ["titles", "creators"])
def test_empty_lists_count_as_missing(emptied: str) -> None:
    data = complete()
    data[emptied] = []
    assert [e.path for e in publication_errors(parse_metadata(data))] == [emptied]


# -- geography ------------------------------------------------------------------------------------


def point(lat: float, lon: float) -> dict[str, Any]:
    return {"geoLocations": [{"geoLocationPoint": {"pointLatitude": lat, "pointLongitude": lon}}]}


def box(west: float, east: float, south: float, north: float) -> dict[str, Any]:
    return {
        "geoLocations": [
            {
                "geoLocationBox": {
                    "westBoundLongitude": west,
                    "eastBoundLongitude": east,
                    "southBoundLatitude": south,
                    "northBoundLatitude": north,
                }
            }
        ]
    }


@pytest.mark.parametrize(("lat", "lon"), [(90, 180), (-90, -180), (0, 0), (-8.8, 13.2)])
def test_points_on_and_inside_the_bounds(lat: float, lon: float) -> None:
    assert parse_metadata(point(lat, lon)).geoLocations[0].geoLocationPoint is not None


@pytest.mark.parametrize(
    ("lat", "lon", "paths"),
    [
        (90.01, 0, {"geoLocations.0.geoLocationPoint.pointLatitude"}),
        (-91, 0, {"geoLocations.0.geoLocationPoint.pointLatitude"}),
        (0, 180.5, {"geoLocations.0.geoLocationPoint.pointLongitude"}),
        (0, -181, {"geoLocations.0.geoLocationPoint.pointLongitude"}),
        (100, 200, {"geoLocations.0.geoLocationPoint.pointLatitude", "geoLocations.0.geoLocationPoint.pointLongitude"}),
    ],
)
def test_points_out_of_bounds(lat: float, lon: float, paths: set[str]) -> None:
    assert paths_of(point(lat, lon)) == paths


def test_box_may_cross_the_antimeridian() -> None:
    # West of east is normal; west "east of" east is a box over the 180° line (e.g. Fiji).
    assert parse_metadata(box(177.0, -178.0, -21.0, -12.0)).geoLocations[0].geoLocationBox is not None
    assert parse_metadata(box(-180, 180, -90, 90)).geoLocations[0].geoLocationBox is not None


@pytest.mark.parametrize(
    ("bounds", "path"),
    [
        ((0, 1, 10, 5), "geoLocations.0.geoLocationBox"),  # south of north is required
        ((-181, 1, 0, 1), "geoLocations.0.geoLocationBox.westBoundLongitude"),
        ((0, 181, 0, 1), "geoLocations.0.geoLocationBox.eastBoundLongitude"),
        ((0, 1, -90.5, 1), "geoLocations.0.geoLocationBox.southBoundLatitude"),
        ((0, 1, 0, 90.5), "geoLocations.0.geoLocationBox.northBoundLatitude"),
    ],
)
def test_bad_boxes(bounds: tuple[float, float, float, float], path: str) -> None:
    assert paths_of(box(*bounds)) == {path}


def test_a_geolocation_needs_a_place_point_or_box() -> None:
    assert paths_of({"geoLocations": [{"geoLocationPlace": "Luanda"}, {}]}) == {"geoLocations.1"}


@given(
    st.floats(min_value=-90, max_value=90),
    st.floats(min_value=-90, max_value=90),
    st.floats(min_value=-180, max_value=180),
    st.floats(min_value=-180, max_value=180),
)
def test_box_property(lat_a: float, lat_b: float, west: float, east: float) -> None:
    south, north = min(lat_a, lat_b), max(lat_a, lat_b)
    parsed = parse_metadata(box(west, east, south, north)).geoLocations[0].geoLocationBox
    assert parsed is not None and parsed.southBoundLatitude == south
    if south < north:
        assert paths_of(box(west, east, north, south)) == {"geoLocations.0.geoLocationBox"}


# -- funders --------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["00k4n6c32", "https://ror.org/00k4n6c32", "ROR.ORG/00K4N6C32"])
def test_funder_ror_is_validated_and_normalized(form: str) -> None:
    meta = parse_metadata(
        {"fundingReferences": [{"funderName": "EC", "funderIdentifier": form, "funderIdentifierType": "ROR"}]}
    )
    assert meta.fundingReferences[0].funderIdentifier == "https://ror.org/00k4n6c32"


@pytest.mark.parametrize("bad", ["00k4n6c33", "https://ror.org/", "501100000780"])
def test_funder_bad_ror_is_a_field_error(bad: str) -> None:
    data = {"fundingReferences": [{"funderName": "EC", "funderIdentifier": bad, "funderIdentifierType": "ROR"}]}
    assert paths_of(data) == {"fundingReferences.0.funderIdentifier"}


def test_funder_identifiers_of_other_types_are_not_checked_as_ror() -> None:
    meta = parse_metadata(
        {
            "fundingReferences": [
                {"funderName": "EC", "funderIdentifier": "501100000780", "funderIdentifierType": "Crossref Funder ID"}
            ]
        }
    )
    assert meta.fundingReferences[0].funderIdentifier == "501100000780"


def test_funder_needs_a_name() -> None:
    assert paths_of({"fundingReferences": [{"funderIdentifier": "x"}]}) == {"fundingReferences.0.funderName"}


# -- creators -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("creator", "name", "name_type"),
    [
        ({"familyName": "Silva", "givenName": "Ana"}, "Silva, Ana", "Personal"),
        ({"familyName": "Silva"}, "Silva", "Personal"),
        ({"name": "Ana Silva", "familyName": "Silva", "givenName": "Ana"}, "Ana Silva", "Personal"),
        ({"name": "Ana Silva", "orcid": GOOD_ORCID}, "Ana Silva", "Personal"),
        ({"name": "CERN", "nameType": "Organizational"}, "CERN", "Organizational"),
        ({"name": "Somebody"}, "Somebody", None),
    ],
)
def test_creator_name_derived_from_family_and_given(creator: dict[str, Any], name: str, name_type: str | None) -> None:
    parsed = parse_metadata({"creators": [creator], "contributors": [creator | {"contributorType": "Editor"}]})
    for person in (parsed.creators[0], parsed.contributors[0]):
        assert person.name == name
        assert person.nameType == name_type


@pytest.mark.parametrize(
    ("creator", "path"),
    [
        ({}, "creators.1"),
        ({"givenName": "Ana"}, "creators.1"),
        ({"orcid": GOOD_ORCID}, "creators.1"),
        ({"name": ""}, "creators.1.name"),
        ({"name": "   "}, "creators.1.name"),
    ],
)
def test_creator_without_a_name_is_an_error(creator: dict[str, Any], path: str) -> None:
    assert paths_of({"creators": [{"name": "ok"}, creator]}) == {path}


# -- robustness -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
PART_KEYS = sorted(
    {
        name
        for model in Metadata.model_fields.values()
        for name in getattr(getattr(model.annotation, "__args__", [None])[0], "model_fields", {})
    }
)


def _part(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(PART_KEYS), values, max_size=5)


metadata_like = st.dictionaries(
    st.sampled_from(sorted(Metadata.model_fields)),
    json_values | st.lists(_part(json_values | st.text(max_size=30)), max_size=3),
    max_size=8,
)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=300)
@given(metadata_like)
def test_any_input_either_parses_or_raises_invalid_input(data: dict[str, Any]) -> None:
    # A crash here would be a 500 for a depositor's typo.
    try:
        meta = parse_metadata(data)
    except InvalidInput as exc:
        assert exc.errors
        assert all(e.path and e.message for e in exc.errors)
        return
    assert parse_metadata(meta.to_json()).to_json() == meta.to_json()


@given(st.sampled_from(["MIT", "Apache-2.0", "CC-BY-4.0", "GPL-3.0-only"]), st.text(max_size=12))
def test_any_licence_text_either_normalizes_or_is_a_field_error(key: str, noise: str) -> None:
    for expression in (noise, f"{key} {noise}", f"{key} OR {noise}", f"({noise}"):
        try:
            parse_metadata({"rightsList": [{"rightsIdentifier": expression}]})
        except InvalidInput as exc:
            assert {e.path for e in exc.errors} <= {"rightsList.0.rightsIdentifier", "rightsList.0"}
