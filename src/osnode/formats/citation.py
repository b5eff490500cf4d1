"""Citations: CSL-JSON, BibTeX, RIS and a plain-text APA-style reference.

All four share one citation key and one reading of names, so a reference copied from the landing
page, imported into Zotero or cited from Pandoc names the same work the same way.

Versions: a citation shows the depositor's version label, or the node's version number from the
second version on; an unlabeled first version is cited without one.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ..domain.metadata import Creator, RelatedItem
from . import RecordView
from .kinds import kind_of

# -- names -----------------------------------------------------------------------------------


def family_given(creator: Creator) -> tuple[str, str | None] | None:
    """(family, given) of a person, or None for an organization or a name that cannot be split."""
    if creator.nameType == "Organizational":
        return None
    if creator.familyName:
        return creator.familyName, creator.givenName or None
    name = creator.name or ""
    if "," in name:
        family, _, given = name.partition(",")
        return family.strip(), given.strip() or None
    return (name, None) if creator.nameType == "Personal" else None


def _initials(given: str) -> str:
    """APA initials: "Francis J." -> "F. J.", "Jean-Paul" -> "J.-P."."""
    parts = []
    for word in given.split():
        parts.append("-".join(f"{piece[0]}." for piece in word.split("-") if piece))
    return " ".join(parts)


def _apa_name(creator: Creator) -> str:
    split = family_given(creator)
    if split is None:
        return creator.name or ""
    family, given = split
    return f"{family}, {_initials(given)}" if given else family


def _apa_authors(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    if len(names) <= 20:
        return ", ".join(names[:-1]) + ", & " + names[-1]
    return ", ".join(names[:19]) + ", . . . " + names[-1]


# -- shared values ---------------------------------------------------------------------------


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def citekey(view: RecordView) -> str:
    """``family_year_id``: readable, and unique because it ends with the version's own id.

    Names without Latin letters ("김민준") contribute nothing rather than a transliteration guess.
    """
    creators = view.metadata.creators
    first = ""
    if creators:
        split = family_given(creators[0])
        first = _ascii(split[0] if split else "".join((creators[0].name or "").split()[:1]))
    slug = re.sub(r"[^A-Za-z0-9-]", "", view.identifier.rstrip("/").rsplit("/", 1)[-1])
    parts = [first or "record", str(view.year) if view.year else "", slug]
    return "_".join(p for p in parts if p)


def _version(view: RecordView) -> str | None:
    if view.metadata.version:
        return view.metadata.version
    if view.version_number and view.version_number > 1:
        return str(view.version_number)
    return None


def _keywords(view: RecordView) -> list[str]:
    return list(dict.fromkeys(s.subject for s in view.metadata.subjects))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _container(view: RecordView) -> RelatedItem | None:
    """The journal (or book, series) the work is published in, when it names one."""
    item = view.metadata.container()
    return item if item is not None and item.titles else None


def _issn(item: RelatedItem) -> str | None:
    ident = item.relatedItemIdentifier
    if ident is not None and ident.relatedItemIdentifierType in ("ISSN", "EISSN", "LISSN"):
        return ident.relatedItemIdentifier
    return None


def _pages(item: RelatedItem, dash: str = "-") -> str | None:
    if not item.firstPage:
        return None
    return f"{item.firstPage}{dash}{item.lastPage}" if item.lastPage else item.firstPage


# -- CSL-JSON --------------------------------------------------------------------------------


def _csl_name(creator: Creator) -> dict[str, str]:
    split = family_given(creator)
    if split is None:
        return {"literal": creator.name or ""}
    family, given = split
    return {"family": family, "given": given} if given else {"family": family}


def to_csl_json(view: RecordView) -> dict[str, Any]:
    """One CSL-JSON item (citeproc-js, Pandoc, Zotero)."""
    meta = view.metadata
    item: dict[str, Any] = {"id": citekey(view), "type": kind_of(view.kind).csl, "title": meta.main_title()}
    if meta.creators:
        item["author"] = [_csl_name(c) for c in meta.creators]
    for role, csl_role in (("Editor", "editor"), ("Translator", "translator")):
        people = [_csl_name(c) for c in meta.contributors if c.contributorType == role]
        if people:
            item[csl_role] = people
    if view.issued:
        item["issued"] = {"date-parts": [[int(part) for part in view.issued.split("-")]]}
    item["publisher"] = view.publisher_name
    journal = _container(view)
    if journal is not None:
        item["container-title"] = journal.titles[0].title
        for key, value in (("volume", journal.volume), ("issue", journal.issue), ("page", _pages(journal))):
            if value:
                item[key] = value
        if issn := _issn(journal):
            item["ISSN"] = issn
    if meta.doi:
        item["DOI"] = meta.doi
    item["URL"] = view.cite_url
    version = _version(view)
    if version:
        item["version"] = version
    if meta.resourceType and meta.resourceType.resourceType:
        item["genre"] = meta.resourceType.resourceType
    abstract = view.abstract()
    if abstract:
        item["abstract"] = abstract
    if meta.subjects:
        item["keyword"] = ", ".join(_keywords(view))
    if meta.language:
        item["language"] = meta.language
    return item


# -- BibTeX ----------------------------------------------------------------------------------

_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}


def _tex(text: str) -> str:
    """Escape LaTeX's special characters; other Unicode stays as it is (UTF-8 BibTeX, biber)."""
    return "".join(_LATEX.get(char, char) for char in _one_line(text))


def _verbatim(text: str) -> str:
    """URLs and DOIs are read verbatim; only braces could break the entry."""
    return text.replace("{", "%7B").replace("}", "%7D")


def _bibtex_name(creator: Creator) -> str:
    split = family_given(creator)
    if split is None:
        return "{" + _tex(creator.name or "") + "}"  # braces: an organization is one name, not "X and Y"

    def part(text: str) -> str:
        escaped = _tex(text)
        return "{" + escaped + "}" if " and " in f" {text} " or "," in text else escaped

    family, given = split
    return f"{part(family)}, {part(given)}" if given else part(family)


def to_bibtex(view: RecordView) -> str:
    """One BibTeX entry (biblatex types @dataset and @software where they apply)."""
    meta = view.metadata
    fields: list[tuple[str, str]] = []
    if meta.creators:
        fields.append(("author", " and ".join(_bibtex_name(c) for c in meta.creators)))
    fields.append(("title", _tex(meta.main_title())))
    if view.year:
        fields.append(("year", str(view.year)))
    journal = _container(view)
    if journal is not None:
        fields.append(("journal", _tex(journal.titles[0].title)))
        for name, value in (("volume", journal.volume), ("number", journal.issue), ("pages", _pages(journal, "--"))):
            if value:
                fields.append((name, _tex(value)))
        if issn := _issn(journal):
            fields.append(("issn", issn))
    fields.append(("publisher", _tex(view.publisher_name)))
    version = _version(view)
    if version:
        fields.append(("version", _tex(version)))
    if meta.doi:
        fields.append(("doi", _verbatim(meta.doi)))
    fields.append(("url", _verbatim(view.cite_url)))
    if meta.subjects:
        fields.append(("keywords", _tex(", ".join(_keywords(view)))))
    if meta.language:
        fields.append(("language", _tex(meta.language)))
    width = max(len(name) for name, _ in fields)
    body = ",\n".join(f"  {name.ljust(width)} = {{{value}}}" for name, value in fields)
    return f"@{kind_of(view.kind).bibtex}{{{citekey(view)},\n{body}\n}}\n"


# -- RIS -------------------------------------------------------------------------------------


def _ris_name(creator: Creator) -> str:
    split = family_given(creator)
    if split is None:
        return creator.name or ""
    family, given = split
    return f"{family}, {given}" if given else family


def to_ris(view: RecordView) -> str:
    """One RIS record, CRLF line ends as the format asks."""
    meta = view.metadata
    lines: list[tuple[str, str]] = [("TY", kind_of(view.kind).ris)]
    lines += [("AU", _ris_name(c)) for c in meta.creators]
    lines.append(("TI", meta.main_title()))
    if view.year:
        lines.append(("PY", str(view.year)))
    if view.issued and len(view.issued) == 10:
        lines.append(("DA", view.issued.replace("-", "/")))
    journal = _container(view)
    if journal is not None:
        lines.append(("T2", journal.titles[0].title))
        for tag, value in (("VL", journal.volume), ("IS", journal.issue), ("SP", journal.firstPage)):
            if value:
                lines.append((tag, value))
        if journal.lastPage:
            lines.append(("EP", journal.lastPage))
        if issn := _issn(journal):
            lines.append(("SN", issn))
    lines.append(("PB", view.publisher_name))
    version = _version(view)
    if version:
        lines.append(("ET", version))
    if meta.resourceType and meta.resourceType.resourceType:
        lines.append(("M3", meta.resourceType.resourceType))
    if meta.doi:
        lines.append(("DO", meta.doi))
    lines.append(("UR", view.cite_url))
    abstract = view.abstract()
    if abstract:
        lines.append(("AB", abstract))
    lines += [("KW", keyword) for keyword in _keywords(view)]
    if meta.language:
        lines.append(("LA", meta.language))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {_one_line(value)}\r\n" for tag, value in lines)


# -- plain text ------------------------------------------------------------------------------


def _source(journal: RelatedItem) -> str:
    """APA's source of an article: "Journal, 12(3), 101–118"."""
    parts = [_one_line(journal.titles[0].title)]
    if journal.volume:
        parts.append(journal.volume + (f"({journal.issue})" if journal.issue else ""))
    elif journal.issue:
        parts.append(f"({journal.issue})")
    pages = _pages(journal, "\u2013")
    if pages:
        parts.append(pages)
    return ", ".join(parts)


def to_text(view: RecordView) -> str:
    """An APA 7-style reference: Authors (Year). Title (Version v) [Type]. Publisher. URL"""
    meta = view.metadata
    title = _one_line(meta.main_title())
    version = _version(view)
    if version:
        title += f" (Version {version})"
    description = kind_of(view.kind).apa
    if description:
        title += f" [{description}]"
    title_part = title if title.endswith((".", "?", "!")) else f"{title}."
    year = f"({view.year})." if view.year else "(n.d.)."
    names = [_apa_name(c) for c in meta.creators]
    publisher = view.publisher_name
    journal = _container(view) if kind_of(view.kind).schema_org == "ScholarlyArticle" else None
    # APA leaves the publisher out when it is the author; an article names its journal instead.
    publisher_part = "" if names == [publisher] else f" {_one_line(publisher)}."
    if journal is not None:
        publisher_part = f" {_source(journal)}."
    if names:
        authors = _apa_authors(names)
        head = f"{authors}{'' if authors.endswith('.') else '.'} {year} {title_part}"
    else:
        head = f"{title_part} {year}"
    return f"{head}{publisher_part} {view.cite_url}"
