"""A record's usage policy as W3C ODRL 2.2 JSON-LD, with the GA4GH Data Use Ontology as its profile.

One policy per record version, served at ``<landing page>/policy.jsonld``. The DUO permission becomes the
permission's purpose constraint; GS the countries where the data may be used (``spatial``); TS the longest a
grant may last (``elapsedTime``); NCU and NPOA prohibitions; every other modifier a duty whose action is the
DUO term itself (the profile's vocabulary). An open record permits use to anyone; a record without terms
states only its access level.
"""

from __future__ import annotations

from typing import Any

from ..domain.duo import SCHEME_URI, terms
from ..domain.records import AccessLevel
from . import RecordView

CONTEXT = "http://www.w3.org/ns/odrl.jsonld"


def _term(code: str) -> dict[str, str]:
    return {"@id": terms()[code].purl}


def policy(view: RecordView, assigner: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": CONTEXT, "@type": "Offer", "uid": view.policy_url, "assigner": assigner}
    permission: dict[str, Any] = {"target": view.identifier, "action": "use"}
    use = view.data_use
    if use is None:
        if view.access_level is not AccessLevel.OPEN:
            # Only the record's owners (and, for an embargo, everyone from its end) may use the files.
            permission["constraint"] = [{"leftOperand": "recipient", "operator": "eq", "rightOperand": "owner"}]
        doc["permission"] = [permission]
        return doc
    doc["profile"] = SCHEME_URI
    constraints: list[dict[str, Any]] = []
    if use.permission != "NRES":
        constraints.append({"leftOperand": "purpose", "operator": "isA", "rightOperand": _term(use.permission)})
    if use.disease:
        constraints.append({"leftOperand": "purpose", "operator": "isPartOf", "rightOperand": use.disease})
    if "GS" in use.modifiers:
        constraints.append({"leftOperand": "spatial", "operator": "isAnyOf", "rightOperand": list(use.countries)})
    if "TS" in use.modifiers and use.months:
        constraints.append(
            {
                "leftOperand": "elapsedTime",
                "operator": "lteq",
                "rightOperand": {"@value": f"P{use.months}M", "@type": "xsd:duration"},
            }
        )
    if constraints:
        permission["constraint"] = constraints
    duties = [{"action": _term(m)} for m in use.modifiers if m not in ("GS", "TS", "NCU", "NPOA") and m in terms()]
    if duties:
        permission["duty"] = duties
    doc["permission"] = [permission]
    prohibitions = []
    if "NCU" in use.modifiers or "NPUNCU" in use.modifiers:
        prohibitions.append({"target": view.identifier, "action": "commercialize"})
    if "NPOA" in use.modifiers:
        prohibitions.append(
            {
                "target": view.identifier,
                "action": "use",
                "constraint": [{"leftOperand": "purpose", "operator": "isA", "rightOperand": _term("POA")}],
            }
        )
    if prohibitions:
        doc["prohibition"] = prohibitions
    return doc
