"""The node's use cases. Transactions live here; the edges (web, cli) only call these functions."""
