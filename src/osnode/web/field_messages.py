"""The validation messages people see beside a form's fields, in their language.

The domain's checks and Pydantic say what is wrong in English, often quoting what was typed ("'1234' is not an
ORCID iD ..."). Each message shown often is matched here to a catalog entry with the quoted parts as
placeholders, so the page shows it translated with the visitor's own words kept (escaped by the template).
A message no pattern knows is looked up as it is, and shown in English if the catalogs lack it.
"""

from __future__ import annotations

import re

from . import i18n
from .i18n import N_

_VALUE = r"'(?P<value>.*)'"
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.S), msgid)
    for p, msgid in (
        (r"Field required", N_("this field is required")),
        (r"String should have at most (?P<max>\d+) characters?", N_("at most %(max)s characters")),
        (r"String should have at least 1 character", N_("this field cannot be empty")),
        (r"String should have at least (?P<min>\d+) characters", N_("at least %(min)s characters")),
        (r"Input should be a valid integer.*", N_("give a whole number")),
        (r"Input should be a valid number.*", N_("give a number")),
        (r"Input should be greater than or equal to (?P<min>\S+)", N_("the smallest value allowed is %(min)s")),
        (r"Input should be less than or equal to (?P<max>\S+)", N_("the largest value allowed is %(max)s")),
        (r"Input should be a valid (list|dictionary|string|boolean).*", N_("this value has the wrong form")),
        (_VALUE + r" is not an ORCID iD \(expected 0000-0000-0000-000X\)",
         N_("'%(value)s' is not an ORCID iD (expected 0000-0000-0000-000X)")),
        (_VALUE + r" has a wrong ORCID check digit", N_("'%(value)s' has a wrong ORCID check digit")),
        (_VALUE + r" is not a ROR id \(expected https://ror\.org/0 followed by 8 characters\)",
         N_("'%(value)s' is not a ROR id (expected https://ror.org/0 followed by 8 characters)")),
        (_VALUE + r" has a wrong ROR checksum", N_("'%(value)s' has a wrong ROR checksum")),
        (_VALUE + r" is not a DOI \(expected 10\.NNNN/suffix\)",
         N_("'%(value)s' is not a DOI (expected 10.NNNN/suffix)")),
        (_VALUE + r" is not an ISO 8601 / EDTF date or range",
         N_("'%(value)s' is not a date (e.g. 2024, 2024-05-31, or a range 2024-01/2024-06)")),
        (_VALUE + r" is not a language tag \(BCP 47, e\.g\. 'en', 'pt-BR'\)",
         N_("'%(value)s' is not a language tag (BCP 47, e.g. 'en', 'pt-BR')")),
        (_VALUE + r" is not a DataCite \w+; expected one of: (?P<allowed>.*)",
         N_("'%(value)s' is not one of: %(allowed)s")),
        (r"unknown SPDX licence identifier\(s\): (?P<value>.*)",
         N_("unknown SPDX licence identifier(s): %(value)s")),
        (_VALUE + r" is not a valid SPDX expression.*", N_("'%(value)s' is not a valid SPDX licence expression")),
        (_VALUE + r" is not an http\(s\) URL", N_("'%(value)s' is not an http(s) URL")),
        (_VALUE + r" is not a URI", N_("'%(value)s' is not a URI")),
    )
]  # fmt: skip

# Messages the domain gives as they are (no quoted value): listed so `make messages` extracts them.
PLAIN = [
    N_("a name (or familyName and givenName) is required"),
    N_("at least one title is required"),
    N_("at least one creator is required"),
    N_("a publisher is required"),
    N_("a publication year is required"),
    N_("a resourceType with resourceTypeGeneral is required"),
    N_("give a rightsIdentifier (SPDX expression), rights or rightsUri"),
    N_("a geoLocation needs a place, a point or a box"),
]


def translate(lang: str, message: str) -> str:
    """``message`` in ``lang``: through the first pattern that matches it whole, else looked up as it is."""
    for pattern, msgid in PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return i18n.gettext(lang, msgid, **found.groupdict())
    return i18n.gettext(lang, message)
