"""The API against its own OpenAPI document: schemathesis generates valid and invalid requests for
every operation, sends them in-process to the live ASGI app (on SQLite and PostgreSQL) and runs all
of its checks on each answer: no server error, no status or content type the document does not
declare, bodies that match their schemas, Allow on 405, invalid input refused, valid input taken.

Bounded: a few examples per operation and no shrinking, so each backend takes seconds, not minutes.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup

from osnode.app import create_app
from osnode.services.node import Node
from tests.conftest import Account

MAX_EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 5}

# Every check schemathesis has: what `--checks all` selects. The OpenAPI checks register themselves on import.
load_all_checks()
ALL_CHECKS = CHECKS.get_all()
assert len(ALL_CHECKS) > 10, ALL_CHECKS  # not only the server-error check
# "Schema-valid input is accepted", narrowed: a request the schema allows may still break a rule the schema
# cannot express, and the node must refuse it: 422 for metadata rules (a random DataCite-shaped dict has no
# valid ORCID or licence; a random string is no SHA-256, SWHID or SQL), 412 for tus requests without the
# Tus-Resumable header the tus protocol requires (its 412 is the protocol's answer, not a validation error).
POSITIVE_ALSO_EXPECTED = ["412", "422"]


def _failures(schema: Any, operation: Any, mode: GenerationMode, headers: dict[str, str]) -> list[str]:
    """Run ``operation`` on generated cases of one mode; each distinct failure once."""
    found: dict[str, str] = {}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES[mode],
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a bounded run
        suppress_health_check=list(HealthCheck),
        deadline=None,
        database=None,  # leave no .hypothesis folder behind
        derandomize=True,
    )
    def run(case: schemathesis.Case) -> None:
        try:
            case.call_and_validate(headers=headers, checks=ALL_CHECKS)
        except FailureGroup as group:  # keep going: report every distinct failure, not only the first
            for failure in group.exceptions:
                found.setdefault(f"{type(failure).__name__}: {failure}", f"{operation.label} ({mode.value}): {group}")

    try:
        run()
    except Unsatisfiable:
        # Only in negative mode, for an operation that takes nothing that could be wrong (GET /api):
        # there is no invalid request to make.
        assert mode is GenerationMode.NEGATIVE, operation.label
    return list(found.values())


def _takes_more_than_its_path(operation: Any) -> bool:
    raw = operation.definition.raw
    return "requestBody" in raw or any(p["in"] != "path" for p in raw.get("parameters", []))


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_every_operation_conforms(node: Node, admin: Account, mode: GenerationMode) -> None:
    app = create_app(node)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    acceptance = schema.config.checks.positive_data_acceptance
    acceptance.expected_statuses = [*acceptance.expected_statuses, *POSITIVE_ALSO_EXPECTED]
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # a schema error here fails the test: the document must be valid
        if mode is GenerationMode.NEGATIVE and not _takes_more_than_its_path(operation):
            # Every path segment is a string, so invalid values exist only outside the path; searching for one
            # costs seconds per operation and finds nothing the positive run does not already send.
            continue
        failures += _failures(schema, operation, mode, admin.headers)  # as the admin: past every access check
    assert not failures, "\n\n".join(failures)
