"""Search over the index: ranking, snippets, facets, filters, sorting, paging and keeping in step
with publication, on SQLite FTS5 and PostgreSQL full-text search alike."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from osnode.config import load_settings
from osnode.services import deposit, search, users
from osnode.services.node import Node
from osnode.storage import search as index
from osnode.storage.catalog import search_docs, search_facets
from tests.conftest import Account, _pg_admin, _pg_url, minimal_metadata


def publish(node: Node, account: Account, access: str = "metadata-only", **meta: Any) -> str:
    """Publish a metadata-only first version; returns the record id."""
    access_doc: dict[str, Any] = {"level": access}
    if access == "embargoed":
        access_doc["embargo_until"] = "2999-01-01"
    draft = deposit.create_draft(node, account.viewer, minimal_metadata(**meta), access_doc)
    if access != "metadata-only":
        deposit.add_file(node, draft.id, "data.csv", [b"a,b\n1,2\n"], account.viewer)
    deposit.publish(node, draft.id, account.viewer)
    return draft.record_id


def titles(result: search.SearchResult) -> list[str]:
    return [item["title"] for item in result.items]


def facet(result: search.SearchResult, name: str) -> dict[str, int]:
    return {v["label"]: v["count"] for v in result.facets[name]}


def corpus(node: Node, account: Account) -> dict[str, str]:
    """A small, varied catalog; returns record ids by a short name."""
    made = {
        "rain": publish(
            node,
            account,
            titles=[{"title": "Rainfall at Luanda", "lang": "en"}, {"title": "Precipitação em Luanda", "lang": "pt"}],
            descriptions=[{"description": "Daily gauge readings from the airport station, 2001-2020."}],
            subjects=[{"subject": "Climate"}, {"subject": "Hydrology"}],
            publicationYear=2021,
            language="en",
        ),
        "traffic": publish(
            node,
            account,
            titles=[{"title": "Road traffic counts in Luanda"}],
            descriptions=[{"description": "Counts of cars; wet days, when rainfall is heavy, are marked."}],
            subjects=[{"subject": "Transport"}],
            publicationYear=2022,
            language="pt",
            rightsList=[{"rightsIdentifier": "CC0-1.0"}],
        ),
        "frog": publish(
            node,
            account,
            titles=[{"title": "Genome of the African clawed frog"}],
            creators=[{"name": "Okafor, Chidi"}],
            descriptions=[{"description": "Assembly and annotation. No weather data here."}],
            subjects=[{"subject": "Genomics"}],
            resourceType={"resourceTypeGeneral": "Software"},
            publicationYear=2022,
            access="open",
        ),
        "article": publish(
            node,
            account,
            titles=[{"title": "Why Luanda floods"}],
            creators=[{"name": "Rainfall, Maria"}],
            descriptions=[{"description": "An essay on drainage and urban growth."}],
            subjects=[{"subject": "Climate"}],
            resourceType={"resourceTypeGeneral": "Text"},
            publicationYear=2023,
            access="embargoed",
        ),
    }
    return made


def test_relevance_ranks_title_matches_above_description_matches(node: Node, depositor: Account) -> None:
    corpus(node, depositor)
    result = search.query(node, "rainfall")
    # Title (weight highest) beats creator name, which beats a word deep in a description.
    assert titles(result) == ["Rainfall at Luanda", "Why Luanda floods", "Road traffic counts in Luanda"]
    scores = [item["score"] for item in result.items]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
    assert result.total == 3 and result.sort == "relevance"
    # Both words must match: the frog genome mentions neither.
    assert titles(search.query(node, "luanda rainfall"))[0] == "Rainfall at Luanda"
    assert search.query(node, "luanda genome").total == 0


def test_all_titles_creators_subjects_and_descriptions_are_searched(node: Node, depositor: Account) -> None:
    corpus(node, depositor)
    assert titles(search.query(node, "precipitacao")) == ["Rainfall at Luanda"]  # other language, accents folded
    assert titles(search.query(node, "okafor")) == ["Genome of the African clawed frog"]
    assert titles(search.query(node, "hydrology")) == ["Rainfall at Luanda"]
    assert titles(search.query(node, "drainage")) == ["Why Luanda floods"]
    assert titles(search.query(node, "RAINFALL LUANDA airport")) == ["Rainfall at Luanda"]


def test_phrases_need_the_words_together(node: Node, depositor: Account) -> None:
    corpus(node, depositor)
    assert titles(search.query(node, '"clawed frog"')) == ["Genome of the African clawed frog"]
    assert search.query(node, '"frog clawed"').total == 0


def test_snippets_highlight_the_matched_words(node: Node, depositor: Account) -> None:
    corpus(node, depositor)
    result = search.query(node, "airport")
    assert result.total == 1
    assert "<mark>airport</mark>" in result.items[0]["snippet"]
    traffic = search.query(node, "cars")
    assert "<mark>cars</mark>" in traffic.items[0]["snippet"].lower()


def test_snippets_escape_html_in_metadata(node: Node, depositor: Account) -> None:
    publish(node, depositor, descriptions=[{"description": "Beware <script>alert(1)</script> salinity & more"}])
    snippet = search.query(node, "salinity").items[0]["snippet"]
    assert "<script>" not in snippet
    assert "<mark>salinity</mark>" in snippet


def test_facet_counts(node: Node, depositor: Account) -> None:
    corpus(node, depositor)
    result = search.query(node, "")
    assert result.total == 4
    assert facet(result, "kind") == {"Dataset": 2, "Software": 1, "Text": 1}
    assert facet(result, "subject") == {"Climate": 2, "Hydrology": 1, "Transport": 1, "Genomics": 1}
    assert facet(result, "year") == {"2021": 1, "2022": 2, "2023": 1}
    assert facet(result, "licence") == {"CC-BY-4.0": 3, "CC0-1.0": 1}
    assert facet(result, "access") == {"metadata-only": 2, "open": 1, "embargoed": 1}
    assert facet(result, "language") == {"en": 1, "pt": 1}
    assert facet(result, "origin") == {"local": 4}
    # Counts follow the text query, not the whole catalog.
    luanda = search.query(node, "luanda")
    assert facet(luanda, "kind") == {"Dataset": 2, "Text": 1}
    assert facet(luanda, "subject") == {"Climate": 2, "Hydrology": 1, "Transport": 1}


def test_filters_combine_and_across_or_within(node: Node, depositor: Account) -> None:
    corpus(node, depositor)
    assert titles(search.query(node, "", {"kind": ["Dataset"]}, sort="title")) == [
        "Rainfall at Luanda",
        "Road traffic counts in Luanda",
    ]
    both = search.query(node, "", {"kind": ["Dataset"], "year": ["2022"]})
    assert titles(both) == ["Road traffic counts in Luanda"]
    either = search.query(node, "", {"year": ["2021", "2023"]}, sort="title")
    assert titles(either) == ["Rainfall at Luanda", "Why Luanda floods"]
    with_text = search.query(node, "luanda", {"subject": ["Climate"], "access": ["embargoed"]})
    assert titles(with_text) == ["Why Luanda floods"]
    assert search.query(node, "luanda", {"kind": ["Software"]}).total == 0
    # Facet counts of a filtered search describe the filtered result.
    assert facet(both, "kind") == {"Dataset": 1}
    assert [v["selected"] for v in both.facets["kind"]] == [True]


def test_sorting_by_title_and_newest(node: Node, depositor: Account) -> None:
    ids = corpus(node, depositor)
    assert titles(search.query(node, "", sort="title")) == sorted(
        [
            "Rainfall at Luanda",
            "Road traffic counts in Luanda",
            "Genome of the African clawed frog",
            "Why Luanda floods",
        ]
    )
    newest = search.query(node, "luanda", sort="newest")
    assert [i["record_id"] for i in newest.items] == [ids["article"], ids["traffic"], ids["rain"]]
    # Without words there is nothing to rank by: browsing is newest first.
    assert search.query(node, "").sort == "newest"


def test_pagination(node: Node, depositor: Account) -> None:
    for n in range(7):
        publish(node, depositor, titles=[{"title": f"Survey {n}"}])
    pages = [search.query(node, "survey", sort="title", page=p, size=3) for p in (1, 2, 3)]
    assert [len(p.items) for p in pages] == [3, 3, 1]
    assert {p.pages for p in pages} == {3}
    seen = [t for p in pages for t in titles(p)]
    assert seen == [f"Survey {n}" for n in range(7)]


def test_drafts_are_not_searchable(node: Node, depositor: Account) -> None:
    deposit.create_draft(node, depositor.viewer, minimal_metadata(titles=[{"title": "Secret draft"}]))
    assert search.query(node, "secret").total == 0


def test_withdrawn_records_leave_the_index(node: Node, depositor: Account, curator: Account) -> None:
    ids = corpus(node, depositor)
    deposit.withdraw(node, ids["rain"], curator.viewer, "consent withdrawn")
    assert "Rainfall at Luanda" not in titles(search.query(node, "rainfall"))
    assert search.query(node, "airport").total == 0
    assert facet(search.query(node, ""), "subject").get("Hydrology") is None
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(search_docs)).scalar_one() == 3


def test_a_new_version_replaces_the_old_in_results(node: Node, depositor: Account) -> None:
    record_id = publish(node, depositor, titles=[{"title": "Mangrove survey"}], publicationYear=2020)
    draft = deposit.new_version(node, record_id, depositor.viewer)
    # An unpublished new version changes nothing yet.
    deposit.update_draft(node, draft.id, depositor.viewer, minimal_metadata(titles=[{"title": "Seagrass survey"}]))
    assert titles(search.query(node, "survey")) == ["Mangrove survey"]
    deposit.publish(node, draft.id, depositor.viewer)
    result = search.query(node, "survey")
    assert titles(result) == ["Seagrass survey"]
    assert result.items[0]["id"] == draft.id and result.items[0]["record_id"] == record_id
    assert search.query(node, "mangrove").total == 0
    assert facet(search.query(node, ""), "year") != {"2020": 1}
    # Withdrawing the new version brings the previous one back.
    deposit.withdraw(node, draft.id, depositor.viewer, "wrong file")
    assert titles(search.query(node, "survey")) == ["Mangrove survey"]


@pytest.mark.parametrize(
    "typed",
    [
        '"unbalanced',
        "*",
        "rain*",
        "NEAR(rain luanda)",
        "rain OR",
        "AND",
        "- ^ : ( ) { } [ ]",
        "title:rain",
        "'; DROP TABLE search_docs; --",
        "\x00rain",
        "x" * 5000,
        '""',
        "ü" * 3,
        "雨 ルアンダ",
    ],
)
def test_malformed_search_text_never_fails(node: Node, depositor: Account, typed: str) -> None:
    corpus(node, depositor)
    result = search.query(node, typed)
    assert result.total >= 0 and isinstance(result.messages, list)
    with node.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM search_docs")).scalar_one() == 4


def test_operators_are_searched_as_words(node: Node, depositor: Account) -> None:
    corpus(node, depositor)
    assert titles(search.query(node, "rainfall*")) == titles(search.query(node, "rainfall"))
    assert search.query(node, "rainfall OR genome").total == 0  # OR is a word here, and no record has it
    assert search.query(node, "*").messages and search.query(node, "*").total == 4


def test_bad_controls_are_explained_not_refused(node: Node, depositor: Account) -> None:
    corpus(node, depositor)
    huge = search.query(node, "luanda", page=10**12)
    assert huge.items == [] and huge.total == 3
    assert any("10,000" in m for m in huge.messages)
    past = search.query(node, "luanda", page=5)
    assert past.items == [] and any("past the last page" in m for m in past.messages)
    odd = search.query(node, "luanda", {"colour": ["red"], "year": ["soon"]}, sort="random", page="x", size="9999")
    assert odd.total == 3 and odd.size == search.MAX_SIZE and odd.page == 1
    joined = " ".join(odd.messages)
    for expected in ("colour", "soon", "random", "'x'", "1 to 100"):
        assert expected in joined


def test_reindex_rebuilds_the_same_index(node: Node, depositor: Account) -> None:
    corpus(node, depositor)
    before = search.query(node, "luanda").as_json()
    with node.transaction() as tx:
        tx.execute(search_facets.delete())
        tx.execute(search_docs.delete())
    assert search.query(node, "luanda").total == 0
    assert search.reindex(node) == 4
    after = search.query(node, "luanda").as_json()
    for item in before["items"] + after["items"]:
        item.pop("score")
    assert after["items"] == before["items"] and after["facets"] == before["facets"]


def test_opening_a_node_builds_a_missing_index(node: Node, depositor: Account) -> None:
    corpus(node, depositor)
    with node.transaction() as tx:
        tx.execute(search_facets.delete())
        tx.execute(search_docs.delete())
        tx.execute(text("DELETE FROM node_settings WHERE key = 'search_index_version'"))
    reopened = Node.open(node.settings)
    try:
        assert search.query(reopened, "luanda").total == 3
    finally:
        reopened.close()


def test_words_fold_case_and_accents() -> None:
    assert index.words("Précipitação, RAIN_fall 2001-2020 naïve") == [
        "precipitacao",
        "rain",
        "fall",
        "2001",
        "2020",
        "naive",
    ]


def test_quoted_text_is_parsed_into_safe_words_and_phrases() -> None:
    assert search.parse_text('"clawed frog" rain "x"') == (("x", "rain"), (("clawed", "frog"),))
    assert search.parse_text('"unbalanced frog') == (("unbalanced", "frog"), ())
    assert search.parse_text("*") == ((), ())
    assert search.parse_text("NEAR(a b)") == (("near", "a", "b"), ())


# -- both engines, same answers --------------------------------------------------------------------


@pytest.fixture
def both_nodes(tmp_path: Path, pg_template: str) -> Iterator[tuple[Node, Node]]:
    name = f"osnode_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    opened = []
    for label, url in (("sqlite", f"sqlite:///{tmp_path / 'catalog.sqlite'}"), ("pg", _pg_url(name))):
        folder = tmp_path / label
        folder.mkdir()
        opened.append(Node.open(load_settings(folder, database_url=url, base_url="http://testserver")))
    yield opened[0], opened[1]
    for node in opened:
        node.close()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _comparable(result: search.SearchResult) -> dict[str, Any]:
    body = result.as_json()
    return {
        "titles": [i["title"] for i in body["items"]],
        "total": body["total"],
        "facets": body["facets"],
        "messages": body["messages"],
    }


def test_sqlite_and_postgresql_agree(both_nodes: tuple[Node, Node]) -> None:
    results = []
    for node in both_nodes:
        user = users.create_user(node, "depositor", "depositor")
        account = Account(user, users.create_token(node, user))
        corpus(node, account)
        for n in range(12):
            publish(node, account, titles=[{"title": f"Luanda rainfall series {n:02d}"}], publicationYear=2000 + n)
        queries = [
            ("luanda", {}, "title"),
            ("rainfall", {"kind": ["Dataset"]}, "title"),
            ("rainfall luanda", {"year": ["2001", "2021"]}, "newest"),
            ('"clawed frog"', {}, "relevance"),
            ("precipitação", {}, "relevance"),
            ("", {"subject": ["Climate"]}, "title"),
            ('"broken * NEAR(', {"nope": ["x"]}, "relevance"),
            ("series", {}, "title"),
        ]
        results.append(
            [
                _comparable(search.query(node, q, f, sort=s, size=5, page=2 if q == "series" else 1))
                for q, f, s in queries
            ]
        )
    sqlite_results, pg_results = results
    assert sqlite_results == pg_results
    assert sqlite_results[0]["total"] == 15


# -- forgiving search: prefixes, typos, folded subjects, named origins ------------------------------


def _harvested_copy(node: Node, account: Account, peer_url: str, name: str, **meta: Any) -> str:
    """A record as the harvester leaves it: published here, its version naming the peer it came from."""
    from osnode.services.harvest import peers as harvest_peers
    from osnode.storage.catalog import versions

    harvest_peers.add_peer(node, peer_url, name=name)
    record_id = publish(node, account, **meta)
    with node.transaction() as tx:
        tx.execute(
            versions.update()
            .where(versions.c.record_id == record_id)
            .values(origin_node=harvest_peers.origin_of(peer_url))
        )
        index.index_record(tx, record_id)
    return record_id


def test_a_word_finds_the_longer_words_it_begins(node: Node, depositor: Account) -> None:
    corpus(node, depositor)
    assert set(titles(search.query(node, "rainfal"))) == {
        "Rainfall at Luanda",
        "Why Luanda floods",
        "Road traffic counts in Luanda",
    }
    assert titles(search.query(node, "luan airp")) == ["Rainfall at Luanda"]
    # Two letters are too few to stand for a word.
    assert search.query(node, "ra").total == 0


def test_whole_word_matches_rank_above_longer_words(node: Node, depositor: Account) -> None:
    publish(node, depositor, titles=[{"title": "Rainfalls over the sea"}])
    publish(node, depositor, titles=[{"title": "Rainfall over the sea"}])
    assert titles(search.query(node, "rainfall")) == ["Rainfall over the sea", "Rainfalls over the sea"]
    assert search.query(node, "rainfal").total == 2


def test_a_typo_is_answered_with_the_nearest_word_of_the_index(node: Node, depositor: Account) -> None:
    corpus(node, depositor)
    result = search.query(node, "rainfll luanda")
    assert titles(result)[0] == "Rainfall at Luanda" and result.total == 3
    assert result.messages == ["Nothing matched the words as typed; showing results for 'rainfall luanda'."]
    # A word like nothing in the index still finds nothing, and says nothing about corrections.
    nothing = search.query(node, "xqzvvw")
    assert nothing.total == 0 and nothing.messages == []


def test_the_snippet_shows_the_description_not_the_title_again(node: Node, depositor: Account) -> None:
    corpus(node, depositor)
    traffic = search.query(node, "traffic").items[0]
    assert "traffic" not in traffic["snippet"].lower() and traffic["snippet"].startswith("Counts of cars")
    rain = search.query(node, "rainfall daily").items[0]
    assert "<mark>Daily</mark>" in rain["snippet"] and "Rainfall at" not in rain["snippet"]


def test_subject_facets_fold_case_and_show_the_commonest_form(node: Node, depositor: Account) -> None:
    for subject in ("Statistics", "Statistics", "statistics", "STATISTICS"):
        publish(node, depositor, subjects=[{"subject": subject}])
    result = search.query(node, "")
    assert [(v["label"], v["count"]) for v in result.facets["subject"]] == [("Statistics", 4)]
    assert search.query(node, "", {"subject": ["statistics"]}).total == 4
    assert search.query(node, "", {"subject": ["STATISTICS"]}).total == 4
    assert search.query(node, "statistics").total == 4


def test_harvested_copies_are_named_by_their_peer(node: Node, depositor: Account) -> None:
    publish(node, depositor, titles=[{"title": "Soil moisture atlas"}])
    _harvested_copy(
        node, depositor, "https://data.example.org/oai", "example-data", titles=[{"title": "Soil moisture atlas"}]
    )
    result = search.query(node, "soil")
    assert sorted((item["origin"] or "") for item in result.items) == ["", "example-data"]
    origins = {v["value"]: v["label"] for v in result.facets["origin"]}
    assert origins == {"local": "local", "https://data.example.org": "example-data"}
    filtered = search.query(node, "soil", {"origin": ["https://data.example.org"]})
    assert [item["origin"] for item in filtered.items] == ["example-data"]
