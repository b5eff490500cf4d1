"""DOIs, offline-first: reserved in the transaction that publishes a record (``registration.on_published``),
registered with the registry by a background job when the link allows (``registration.register_due``),
through a registrar client (``datacite``: the DataCite REST API). Crossref deposits are to plug in as a
second registrar with the same ``Registrar`` calls (see ``registration.Registrar``).
"""
