"""The one Jinja2 environment every HTML page renders with.

Templates mark every user-visible string with ``{{ _("...") }}`` (jinja2's i18n extension, newstyle) and the
gettext catalogs under ``locales/`` translate them. ``templates.TemplateResponse`` renders in the reader's
language (see :mod:`.i18n`): it adds ``gettext``, ``ngettext``, ``ui_lang``, ``ui_dir`` and the language switch
(``ui_languages``) to the context, ``Vary: Accept-Language, Cookie`` to the response, and remembers an explicit
``?lang=`` in a cookie. Macros imported without context render in English: import them ``with context``.
Pages add their own filters and globals here, never in a second environment. An operator's templates in the
data folder (``templates/``) are searched before the package's (see :func:`use_overrides`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.background import BackgroundTask
from starlette.templating import _TemplateResponse

from ..domain import multilingual
from ..services import accounts
from ..services import sessions as session_service
from . import field_messages, i18n, sessions, theme

TEMPLATES = Path(__file__).parent / "templates"


class LocalizedTemplates(Jinja2Templates):
    """Jinja2Templates whose pages are in the reader's language and say so to caches."""

    def TemplateResponse(  # noqa: N802 - Starlette's name
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> _TemplateResponse:
        response = super().TemplateResponse(
            request,
            name,
            context,
            status_code=status_code,
            headers=i18n.response_headers(request, dict(headers or {})),
            media_type=media_type,
            background=background,
        )
        i18n.remember(request, response.set_cookie)
        sessions.attach(request, response)  # the pre-session cookie a form's CSRF token is bound to
        return response


def signed_in(request: Request) -> dict[str, Any]:
    """Who the header names: the signed-in account (``get_viewer`` left the viewer on the request), or nobody."""
    if "authorization" in request.headers:
        return {"signed_in": None}
    node = request.app.state.node
    viewer = getattr(request.state, "viewer", None)
    if viewer is None:  # a page that did not ask who is there (/login, say): the cookie tells
        sid = sessions.session_id(request)
        viewer = session_service.viewer_of(node, sid) if sid else None
    if viewer is None or viewer.user_id is None:
        return {"signed_in": None}
    return {"signed_in": accounts.get(node, viewer.user_id)}


templates = LocalizedTemplates(
    env=jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, extensions=["jinja2.ext.i18n"]),
    context_processors=[i18n.context, theme.site, signed_in],
)
templates.env.globals.update(sessions.context_globals())


def use_overrides(folder: Path) -> None:
    """Search ``folder`` before the package's templates (a missing folder overrides nothing).

    One process serves one node, so the one environment follows the node whose app was built last. A new
    loader is a new key in Jinja's template cache, so pages cached from the previous folder are not reused."""
    templates.env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(folder), jinja2.FileSystemLoader(TEMPLATES)])
    if templates.env.cache is not None:
        templates.env.cache.clear()


# Outside a request (or in a macro imported without context) strings stay as written, in English.
templates.env.install_null_translations(newstyle=True)


def _lang(ctx: Context) -> str:
    return ctx.get("ui_lang") or i18n.DEFAULT


def _reader(ctx: Context) -> str | None:
    return ctx.get("reader_lang")


def _isolated(text: str) -> Markup | str:
    # Numbers, sizes and dates keep their own direction inside right-to-left text ("B 31" and "8.8-"
    # otherwise): every formatted value comes out isolated, so no template has to remember it.
    return Markup("<bdi>%s</bdi>") % text if text else text


@pass_context
def filesize(ctx: Context, n: int) -> Markup | str:
    return _isolated(i18n.format_size(n, _lang(ctx)))


@pass_context
def number(ctx: Context, n: int | float) -> Markup | str:
    return _isolated(i18n.format_number(n, _lang(ctx)))


@pass_context
def when(ctx: Context, value: Any, with_time: bool = False) -> Markup | str:
    return _isolated(i18n.format_when(value, _lang(ctx), with_time))


@pass_context
def title_for_reader(ctx: Context, titles: Any) -> str:
    """The title to show for a list of titles (objects or JSON), in the reader's language when present."""
    return multilingual.preferred_title(titles or [], _reader(ctx))


@pass_context
def title_lang_for_reader(ctx: Context, titles: Any) -> str | None:
    return multilingual.preferred_title_lang(titles or [], _reader(ctx))


@pass_context
def reader_first(ctx: Context, items: Any) -> list[Any]:
    return multilingual.reader_first(list(items or []), _reader(ctx))


@pass_context
def translate(ctx: Context, message: str, **variables: Any) -> str:
    """Translate a string that came from Python (a label marked with ``N_``), not written in the template.

    Plain text, so the page escapes it: such messages may quote what a visitor typed ("'<script>' is not an
    ORCID iD"), which the newstyle gettext would have marked safe, and %-formatted (a stray "%(" was a 500)."""
    if not message:
        return message
    if variables:
        return i18n.gettext(_lang(ctx), message, **variables)
    return field_messages.translate(_lang(ctx), message)  # a field's message may quote what was typed


@pass_context
def label(ctx: Context, value: Any) -> str:
    """A controlled-vocabulary value (kind, access level, state, description type) in the reader's words."""
    text = "" if value is None else str(value)
    known = i18n.LABELS.get(text)
    return ctx.call(ctx.resolve("gettext"), known) if known else text


templates.env.filters["filesize"] = filesize
templates.env.filters["number"] = number
templates.env.filters["when"] = when
templates.env.filters["title_for_reader"] = title_for_reader
templates.env.filters["reader_first"] = reader_first
templates.env.filters["title_lang_for_reader"] = title_lang_for_reader
templates.env.filters["t"] = translate
templates.env.filters["label"] = label
