"""Where the node keeps things: the catalog (SQL) and the blobs (content-addressed bytes)."""
