"""Benchmark: the article standards, per article and per issue, in one process (pure functions, no I/O).

    uv run python bench/articles.py --articles 2000 --issue 500 --galley-kb 200

Builds ARTICLES synthetic journal articles (5 authors with ORCID and ROR affiliations, abstracts in three
languages, keywords, funding, 30 references, the journal as container, PDF and HTML galleys) and times:

  jats            ``formats.jats.to_xml`` of each article (front matter and references), median and p95
  jats-oai        ``formats.jats.to_oai_text`` (what one OAI-PMH record costs with the ``jats`` prefix)
  scholar         ``formats.scholar.meta_tags`` (what an article's landing page adds)
  crossref-issue  ``formats.crossref.issue_to_xml`` of the first ISSUE articles as one deposit
  galley-body     ``formats.jats.to_xml`` with an HTML galley of about GALLEY_KB kilobytes as the body
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from osnode.domain.metadata import parse_metadata
from osnode.formats import FileView, RecordView, crossref, jats, scholar
from osnode.formats.articles import JournalFacts

BASE = "https://node.example.org/records"
ORCIDS = ["0000-0001-5109-3700", "0000-0002-1694-233X", "0000-0002-1825-0097", "0000-0003-4521-9770"]
JOURNAL = JournalFacts(title="Revista Angolana de Saúde Pública", issn_online="2049-3630", issn_print="0317-8471")
DEPOSIT = crossref.Deposit("RASP", "editor@rasp.example.org", "UAN", "batch-1", datetime(2026, 3, 1, tzinfo=UTC))


def article(n: int) -> RecordView:
    meta: dict[str, Any] = {
        "doi": f"10.82433/rasp.{n}",
        "titles": [{"title": f"Article {n} on malaria", "lang": "en"}],
        "creators": [
            {
                "givenName": f"Given{i}",
                "familyName": f"Family{i}",
                "orcid": ORCIDS[i % len(ORCIDS)],
                "affiliations": [{"name": f"University {i % 2}", "ror": "https://ror.org/02s376052"}],
            }
            for i in range(5)
        ],
        "publisher": "UAN",
        "publicationYear": 2026,
        "resourceType": {"resourceTypeGeneral": "JournalArticle"},
        "language": "en",
        "subjects": [{"subject": f"keyword {k}", "lang": "en"} for k in range(6)],
        "descriptions": [
            {"description": "Abstract text. " * 80, "lang": lang, "descriptionType": "Abstract"}
            for lang in ("en", "pt", "fr")
        ],
        "rightsList": [{"rightsIdentifier": "CC-BY-4.0"}],
        "fundingReferences": [{"funderName": "FCT", "awardNumber": f"A-{n}"}],
        "relatedIdentifiers": [
            {"relatedIdentifier": f"10.1234/ref.{r}", "relatedIdentifierType": "DOI", "relationType": "References"}
            for r in range(30)
        ],
        "relatedItems": [
            {
                "relatedItemType": "Journal",
                "relationType": "IsPublishedIn",
                "relatedItemIdentifier": {"relatedItemIdentifier": "2049-3630", "relatedItemIdentifierType": "EISSN"},
                "titles": [{"title": "Revista Angolana de Saúde Pública"}],
                "volume": "12",
                "issue": "3",
                "firstPage": str(n),
                "lastPage": str(n + 9),
            }
        ],
    }
    url = f"{BASE}/a{n:05d}-x"
    files = [
        FileView("article.pdf", 1000, "a" * 64, "application/pdf", f"{url}/files/article.pdf"),
        FileView("article.html", 1000, "b" * 64, "text/html", f"{url}/files/article.html"),
    ]
    return RecordView(parse_metadata(meta), url, url, 1, datetime(2026, 3, 1, tzinfo=UTC), tuple(files))


def galley(kilobytes: int) -> bytes:
    section = (
        "<h2>Section</h2><p>Text with <b>bold</b>, <i>italic</i> and <a href='https://example.org'>a link</a>.</p>"
        "<ul><li>one</li><li>two</li></ul><table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"
    )
    count = max(1, kilobytes * 1024 // len(section))
    return f"<!DOCTYPE html><html><body><main>{section * count}</main></body></html>".encode()


def timed(views: list[RecordView], action: Callable[[RecordView], object]) -> dict[str, float]:
    """Wall and CPU time per call: on a shared machine the CPU figures are the steadier ones."""
    wall, cpu = [], []
    for view in views:
        start, start_cpu = time.perf_counter(), time.process_time()
        action(view)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    wall.sort()
    cpu.sort()
    p95 = int(len(wall) * 0.95) - 1
    return {
        "median_ms": round(statistics.median(wall), 3),
        "p95_ms": round(wall[p95], 3),
        "cpu_median_ms": round(statistics.median(cpu), 3),
        "cpu_p95_ms": round(cpu[p95], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--issue", type=int, default=500)
    parser.add_argument("--galley-kb", type=int, default=200)
    args = parser.parse_args()
    views = [article(n) for n in range(1, args.articles + 1)]
    results: dict[str, Any] = {"articles": args.articles}
    results["jats"] = timed(views, jats.to_xml)
    results["jats-oai"] = timed(views, lambda v: jats.to_oai_text(v, "node"))
    results["scholar"] = timed(views, scholar.meta_tags)
    issue = views[: args.issue]
    start, start_cpu = time.perf_counter(), time.process_time()
    deposit = crossref.issue_to_xml(issue, JOURNAL, DEPOSIT)
    results["crossref-issue"] = {
        "articles": len(issue),
        "ms": round((time.perf_counter() - start) * 1000, 1),
        "cpu_ms": round((time.process_time() - start_cpu) * 1000, 1),
        "bytes": len(deposit),
    }
    body = jats.Galley("html", galley(args.galley_kb))
    results["galley-body"] = {"galley_bytes": len(body.data), **timed(views[:20], lambda v: jats.to_xml(v, None, body))}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
