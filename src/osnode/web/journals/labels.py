"""The workflow's controlled values (stages, statuses, decisions, roles, review modes, file kinds) in the
reader's words: the ``jlabel`` filter, registered on the one template environment."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from ..i18n import N_
from ..templating import templates

LABELS: dict[str, dict[str, str]] = {
    "stage": {
        "submitted": N_("Submitted"),
        "review": N_("In review"),
        "revisions": N_("Revisions requested"),
        "copyediting": N_("Copyediting"),
        "production": N_("Production"),
        "published": N_("Published"),
        "declined": N_("Declined"),
    },
    "status": {
        "invited": N_("Invited"),
        "accepted": N_("Accepted"),
        "declined": N_("Declined"),
        "submitted": N_("Submitted"),
        "cancelled": N_("Cancelled"),
    },
    "decision": {
        "accept": N_("Accept"),
        "minor-revisions": N_("Minor revisions"),
        "major-revisions": N_("Major revisions"),
        "decline": N_("Decline"),
    },
    "role": {
        "manager": N_("Journal manager"),
        "editor": N_("Editor"),
        "section-editor": N_("Section editor"),
        "copyeditor": N_("Copyeditor"),
        "production-editor": N_("Production editor"),
        "reviewer": N_("Reviewer"),
        "author": N_("Author"),
    },
    "mode": {
        "double-anonymous": N_("Double-anonymous"),
        "single-anonymous": N_("Single-anonymous"),
        "open": N_("Open"),
    },
    "kind": {
        "manuscript": N_("Manuscript"),
        "supplementary": N_("Supplementary"),
        "revision": N_("Revision"),
        "review": N_("Review"),
        "copyedit": N_("Copyedited"),
        "galley": N_("Galley"),
    },
}


@pass_context
def jlabel(ctx: Context, value: Any, family: str) -> str:
    text = "" if value is None else str(getattr(value, "value", value))
    known = LABELS.get(family, {}).get(text)
    return ctx.call(ctx.resolve("gettext"), known) if known else text


templates.env.filters["jlabel"] = jlabel
