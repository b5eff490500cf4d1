"""Pure data and rules of the node: no I/O, imports nothing else of ours."""
