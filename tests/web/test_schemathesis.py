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
from schemathesis.checks import CHECKS
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import checks as openapi_checks

from osnode.services.node import Node
from osnode.web.app import create_app
from tests.conftest import Account

MAX_EXAMPLES = 8

# Every check schemathesis has (what `--checks all` selects), less those that cannot hold here, each for a reason:
EXCLUDED = {
    # Schemathesis builds "valid" ids and bodies from the schema alone; the node rightly refuses most of them (a random
    # string is no record id; a random DataCite-shaped dict breaks the metadata rules the schema cannot express), so
    # "valid input is accepted" would fail on rules that are the point. Invalid input being refused is still checked.
    openapi_checks.positive_data_acceptance,
    # No operation here declares a security scheme, so there is nothing for these to compare against.
    openapi_checks.ignored_auth,
}
ALL_CHECKS = [check for check in CHECKS.get_all() if check not in EXCLUDED]


def _failures(schema: Any, operation: Any, mode: GenerationMode, headers: dict[str, str]) -> list[str]:
    """Run ``operation`` on generated cases of one mode; each distinct failure once."""
    found: dict[str, str] = {}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
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


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_every_operation_conforms(node: Node, admin: Account, mode: GenerationMode) -> None:
    app = create_app(node)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # a schema error here fails the test: the document must be valid
        failures += _failures(schema, operation, mode, admin.headers)  # as the admin: past every access check
    assert not failures, "\n\n".join(failures)
