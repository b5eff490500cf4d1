"""Open Science Node."""
