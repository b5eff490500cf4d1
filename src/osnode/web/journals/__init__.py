"""Journals in the browser: public pages (``public``), managing a journal (``manage``), the editorial workflow
(``workflow``), reviewing from an emailed link (``review``) and the workflow's emails (``emails``)."""

from . import labels  # noqa: F401 - registers the ``jlabel`` filter its templates use
