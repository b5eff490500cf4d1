"""What each DataCite resourceTypeGeneral is called in the other standards.

One table, so the schema.org type, the citation types and the Dublin Core type of a record
always agree. Unlisted kinds are cited as generic works.
"""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):
    schema_org: str
    csl: str
    bibtex: str
    ris: str
    dcmi: str
    """DCMI Type Vocabulary term, for dc:type."""
    apa: str | None
    """The bracketed description APA puts after the title, e.g. [Data set]."""


GENERIC = Kind("CreativeWork", "document", "misc", "GEN", "Text", None)

KINDS: dict[str, Kind] = {
    "Dataset": Kind("Dataset", "dataset", "dataset", "DATA", "Dataset", "Data set"),
    "DataPaper": Kind("ScholarlyArticle", "article-journal", "article", "JOUR", "Text", None),
    "JournalArticle": Kind("ScholarlyArticle", "article-journal", "article", "JOUR", "Text", None),
    "Preprint": Kind("ScholarlyArticle", "article", "misc", "UNPB", "Text", "Preprint"),
    "ConferencePaper": Kind("ScholarlyArticle", "paper-conference", "misc", "CPAPER", "Text", None),
    "PeerReview": Kind("Review", "review", "misc", "GEN", "Text", "Peer review"),
    "Software": Kind("SoftwareSourceCode", "software", "software", "COMP", "Software", "Computer software"),
    "ComputationalNotebook": Kind(
        "SoftwareSourceCode", "software", "software", "COMP", "Software", "Computational notebook"
    ),
    "Workflow": Kind("SoftwareSourceCode", "software", "software", "COMP", "Software", "Workflow"),
    "Book": Kind("Book", "book", "misc", "BOOK", "Text", None),
    "BookChapter": Kind("Chapter", "chapter", "misc", "CHAP", "Text", None),
    "Dissertation": Kind("Thesis", "thesis", "misc", "THES", "Text", "Doctoral dissertation"),
    "Report": Kind("Report", "report", "misc", "RPRT", "Text", "Report"),
    "Collection": Kind("Collection", "collection", "misc", "GEN", "Collection", None),
    "Image": Kind("ImageObject", "graphic", "misc", "FIGURE", "StillImage", "Image"),
    "Audiovisual": Kind("MediaObject", "motion_picture", "misc", "VIDEO", "MovingImage", "Video"),
    "Sound": Kind("AudioObject", "song", "misc", "SOUND", "Sound", "Audio"),
    "Poster": Kind("CreativeWork", "speech", "misc", "GEN", "Text", "Poster"),
    "Presentation": Kind("CreativeWork", "speech", "misc", "SLIDE", "Text", "Presentation"),
    "Standard": Kind("CreativeWork", "standard", "misc", "STAND", "Text", None),
    "Event": Kind("CreativeWork", "event", "misc", "GEN", "Event", None),
    "InteractiveResource": Kind("CreativeWork", "webpage", "misc", "GEN", "InteractiveResource", None),
    "PhysicalObject": Kind("CreativeWork", "document", "misc", "GEN", "PhysicalObject", None),
    "Service": Kind("CreativeWork", "document", "misc", "GEN", "Service", None),
    "Model": Kind("CreativeWork", "document", "misc", "GEN", "Dataset", "Model"),
}


def kind_of(resource_type_general: str | None) -> Kind:
    return KINDS.get(resource_type_general or "", GENERIC)
