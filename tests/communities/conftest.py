"""Communities tests use the OAI-PMH tests' node (public host, small pages) and strict validation."""

from tests.oaipmh.conftest import client, datacite_schema, harvest, node, oai_schema  # noqa: F401
