"""OAI-PMH 2.0: the data provider (``provider``, its fast list path ``fragments``); the web edge serves
it at ``/oai`` (``web/oai.py``). The harvesting client (``harvester``) moves to the harvest service."""
