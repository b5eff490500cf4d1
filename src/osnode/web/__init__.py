"""The HTTP edge: JSON API under /api and HTML pages, over the services."""
