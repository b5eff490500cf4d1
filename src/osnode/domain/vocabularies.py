"""DataCite 4.7 controlled lists, as the kernel-4.7 XSDs enumerate them (a test checks they agree)."""

from __future__ import annotations

RESOURCE_TYPES = tuple(
    (
        "Audiovisual Award Book BookChapter Collection ComputationalNotebook ConferencePaper "
        "ConferenceProceeding DataPaper Dataset Dissertation Event Image Instrument InteractiveResource "
        "Journal JournalArticle Model OutputManagementPlan PeerReview PhysicalObject Poster Preprint "
        "Presentation Project Report Service Software Sound Standard StudyRegistration Text Workflow Other"
    ).split()
)

TITLE_TYPES = ("AlternativeTitle", "Subtitle", "TranslatedTitle", "Other")
NAME_TYPES = ("Organizational", "Personal")
CONTRIBUTOR_TYPES = tuple(
    (
        "ContactPerson DataCollector DataCurator DataManager Distributor Editor HostingInstitution Other "
        "Producer ProjectLeader ProjectManager ProjectMember RegistrationAgency RegistrationAuthority "
        "RelatedPerson ResearchGroup RightsHolder Researcher Sponsor Supervisor Translator WorkPackageLeader"
    ).split()
)
DATE_TYPES = tuple(
    "Accepted Available Collected Copyrighted Coverage Created Issued Other Submitted Updated Valid Withdrawn".split()
)
DESCRIPTION_TYPES = ("Abstract", "Methods", "SeriesInformation", "TableOfContents", "TechnicalInfo", "Other")
FUNDER_IDENTIFIER_TYPES = ("ISNI", "GRID", "ROR", "Crossref Funder ID", "Other")
RELATED_IDENTIFIER_TYPES = tuple(
    (
        "ARK arXiv bibcode CSTR DOI EAN13 EISSN Handle IGSN ISBN ISSN ISTC LISSN LSID PMID PURL RAiD RRID "
        "SWHID UPC URL URN w3id"
    ).split()
)
RELATION_TYPES = tuple(
    (
        "IsCitedBy Cites IsSupplementTo IsSupplementedBy IsContinuedBy Continues IsNewVersionOf "
        "IsPreviousVersionOf IsPartOf HasPart IsPublishedIn IsReferencedBy References IsDocumentedBy "
        "Documents IsCompiledBy Compiles IsVariantFormOf IsOriginalFormOf IsIdenticalTo HasMetadata "
        "IsMetadataFor Reviews IsReviewedBy IsDerivedFrom IsSourceOf Describes IsDescribedBy HasVersion "
        "IsVersionOf Requires IsRequiredBy Obsoletes IsObsoletedBy Collects IsCollectedBy HasTranslation "
        "IsTranslationOf Other"
    ).split()
)

# The three kinds the node is built around; any resourceTypeGeneral above is accepted.
KIND_DATASET = "Dataset"
KIND_ARTICLE = "JournalArticle"
KIND_SOFTWARE = "Software"
