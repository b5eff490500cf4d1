"""SWHID computation and source archiving: git repositories and bundles, source archives, trees on disk."""
