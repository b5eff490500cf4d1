"""OAI-PMH 2.0: the provider at ``/oai`` (``provider``, ``routes``); the harvester comes later."""
