"""The validation messages beside the deposit form's fields are translated into every language, keeping what
the depositor typed (escaped): missing, too long, bad ORCID/ROR/DOI/date, bad language tag, and the rest of
what the domain's checks and Pydantic say most often."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from osnode.domain.errors import InvalidInput
from osnode.domain.metadata import parse_metadata, publication_errors
from osnode.services.node import Node
from osnode.web import field_messages, i18n
from tests.web.test_deposit_pages import HTML, new_draft, signed_in

BAD: list[dict] = [  # type: ignore[type-arg]
    {"titles": [{"title": "T", "lang": "english!"}]},
    {"creators": [{"name": "A", "orcid": "1234"}]},
    {"creators": [{"name": "A", "orcid": "0000-0002-1825-0098"}]},
    {"creators": [{"name": "A", "affiliations": [{"name": "U", "ror": "abc"}]}]},
    {"creators": [{"name": "A", "affiliations": [{"name": "U", "ror": "https://ror.org/02mhbdp95"}]}]},
    {"creators": [{"affiliations": [{"name": "U"}]}]},
    {"dates": [{"date": "yesterday", "dateType": "Created"}]},
    {"dates": [{"date": "2020"}]},
    {"relatedIdentifiers": [{"relatedIdentifier": "10.x", "relatedIdentifierType": "DOI", "relationType": "Cites"}]},
    {"rightsList": [{"rightsIdentifier": "Foo-1.0"}]},
    {"resourceType": {"resourceTypeGeneral": "Thing"}},
    {"publicationYear": "20x6"},
    {"publicationYear": 3},
    {"publicationYear": 99999},
    {"titles": [{"title": ""}]},
    {"language": "!!"},
]


def _messages() -> list[str]:
    found = []
    for meta in BAD:
        with pytest.raises(InvalidInput) as raised:
            parse_metadata(meta)
        found += [e.message for e in raised.value.errors]
    found += [e.message for e in publication_errors(parse_metadata({}))]
    return found


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_every_common_message_is_translated(lang: str) -> None:
    messages = _messages()
    assert len(messages) >= len(BAD) + 5
    untranslated = [m for m in messages if field_messages.translate(lang, m) == m]
    assert untranslated == [], f"{lang}: {untranslated}"
    # The depositor's own words stay in the translated message.
    assert "1234" in field_messages.translate(lang, "'1234' is not an ORCID iD (expected 0000-0000-0000-000X)")


def test_english_reads_as_before() -> None:
    assert field_messages.translate("en", "Field required") == "this field is required"
    message = "'x' has a wrong ORCID check digit"
    assert field_messages.translate("en", message) == message
    assert field_messages.translate("en", "something nobody wrote down") == "something nobody wrote down"


def test_the_form_shows_the_errors_in_the_readers_language(client: TestClient, node: Node) -> None:
    csrf = signed_in(client, node)
    version_id = new_draft(client, csrf)
    typed = {"csrf": csrf, "action": "save", "titles.0.title": "T", "creators.0.name": "A",
             "creators.0.orcid": "<b>1234</b>", "dates.0.date": "hier", "dates.0.dateType": "Created",
             "language": "français!"}  # fmt: skip
    page = client.post(f"/deposit/{version_id}?lang=fr", data=typed, headers=HTML | {"Accept-Language": "fr"})
    assert page.status_code == 422
    assert "n’est pas un identifiant ORCID" in page.text and "&lt;b&gt;1234&lt;/b&gt;" in page.text
    assert "<b>1234</b>" not in page.text
    assert "n’est pas une date" in page.text and "n’est pas une étiquette de langue" in page.text
    assert "is not an ORCID iD" not in page.text
