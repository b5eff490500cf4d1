"""DCAT-AP 3.0.1: every view conforms to the official SHACL shapes, and a reader who may not
download the files finds no file URL in it."""

from __future__ import annotations

import pytest
from pyshacl import validate
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF

from osnode.domain.records import AccessLevel
from osnode.formats import RecordView, dcat
from tests.formats.conftest import RICH, conforms, dcat_shapes, make_view

ACCESS = "http://publications.europa.eu/resource/authority/access-right/"


@pytest.fixture(scope="session")
def shapes() -> Graph:
    return dcat_shapes()


def test_rich_record_conforms(shapes: Graph, rich: RecordView) -> None:
    graph = dcat.to_graph(rich)
    conforms(shapes, graph)
    dataset = URIRef(f"{rich.identifier}#dataset")
    assert (dataset, RDF.type, DCAT.Dataset) in graph
    downloads = set(graph.objects(None, DCAT.downloadURL))
    assert downloads == {URIRef(f.download_url) for f in rich.files}
    assert len(set(graph.objects(dataset, DCAT.distribution))) == len(rich.files)


def test_minimal_and_bare_records_conform(shapes: Graph, minimal: RecordView, bare: RecordView) -> None:
    conforms(shapes, dcat.to_graph(minimal))
    conforms(shapes, dcat.to_graph(bare))


def test_the_shapes_catch_a_dataset_without_title(shapes: Graph, rich: RecordView) -> None:
    graph = dcat.to_graph(rich)
    graph.remove((None, DCTERMS.title, None))
    ok, _, _ = validate(graph, shacl_graph=shapes, inference="none")
    assert not ok


@pytest.mark.parametrize(
    ("level", "term"),
    [
        (AccessLevel.OPEN, "PUBLIC"),
        (AccessLevel.EMBARGOED, "RESTRICTED"),
        (AccessLevel.RESTRICTED, "RESTRICTED"),
        (AccessLevel.METADATA_ONLY, "NON_PUBLIC"),
    ],
)
def test_access_rights_in_the_eu_vocabulary(shapes: Graph, level: AccessLevel, term: str) -> None:
    # As ``exports.record_view`` builds it for a reader who may not download: no files.
    files = {} if level is AccessLevel.OPEN else {"files": ()}
    view = make_view(RICH, access_level=level, **files)
    graph = dcat.to_graph(view)
    conforms(shapes, graph)
    dataset = URIRef(f"{view.identifier}#dataset")
    assert set(graph.objects(dataset, DCTERMS.accessRights)) == {URIRef(f"{ACCESS}{term}")}
    turtle = dcat.to_turtle(view).decode()
    for f in make_view(RICH).files:
        assert (f.download_url in turtle) is (level is AccessLevel.OPEN)


@pytest.mark.parametrize(
    ("write", "syntax"), [(dcat.to_turtle, "turtle"), (dcat.to_rdf_xml, "xml"), (dcat.to_json_ld, "json-ld")]
)
def test_every_syntax_holds_the_same_graph(rich: RecordView, write, syntax: str) -> None:  # type: ignore[no-untyped-def]
    parsed = Graph().parse(data=write(rich), format=syntax)
    assert isomorphic(parsed, dcat.to_graph(rich))


def test_same_record_same_bytes(rich: RecordView) -> None:
    # Blank nodes are named after the record: a cache or an ETag sees one document, not a new one each time.
    for write in (dcat.to_turtle, dcat.to_rdf_xml, dcat.to_json_ld):
        assert write(rich) == write(rich)


def test_awkward_values_still_parse_and_conform(shapes: Graph) -> None:
    meta = {
        **RICH,
        "titles": [{"title": "tab\tvertical\x0btab, bell\x07 and </script>"}],
        "rightsList": [{"rights": "Terms", "rightsUri": 'https://example.org/términos/漢字?a="b"&c=<d>'}],
    }
    view = make_view(meta)
    for write, syntax in ((dcat.to_turtle, "turtle"), (dcat.to_rdf_xml, "xml"), (dcat.to_json_ld, "json-ld")):
        graph = Graph().parse(data=write(view), format=syntax)
        conforms(shapes, graph)
        licences = {str(o) for o in graph.objects(None, DCTERMS.license)}
        assert licences == {"https://example.org/t%C3%A9rminos/%E6%BC%A2%E5%AD%97?a=%22b%22&c=%3Cd%3E"}
