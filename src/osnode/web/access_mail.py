"""The emails of managed access, one per step, written in each recipient's language and queued in the outbox."""

from __future__ import annotations

from ..services import governance, mail
from ..services.node import Node
from .i18n import DEFAULT, LANGUAGES, N_, format_when, gettext

SUBJECT = N_("Access request %(id)s at %(node)s: %(event)s")
BODY = N_("Hello %(name)s,\n\n%(event)s\n\n%(detail)s\n\nThe request: %(link)s")
EVENTS = {
    "new-request": N_("A new access request waits for your committee's review."),
    "request-changed": N_("The requester changed their access request; the votes start again."),
    "comment": N_("There is a new comment on the access request."),
    "info": N_("The data access committee asks for more information."),
    "approved": N_("The access request was approved; the grant holds until %(until)s."),
    "rejected": N_("The access request was rejected."),
    "revoked": N_("The grant of this access request was revoked."),
}


def send(node: Node, notices: list[governance.Notice]) -> int:
    for notice in notices:
        account = notice.account
        lang = account.language if account.language in LANGUAGES else DEFAULT
        until = format_when(notice.until, lang) if notice.until else ""
        event = gettext(lang, EVENTS[notice.event], until=until)
        variables = {"node": node.settings.node_name, "name": account.shown_name, "id": notice.request_id}
        link = f"{node.settings.public_url}/access/requests/{notice.request_id}"
        subject = gettext(lang, SUBJECT, event=event, **variables)
        body = gettext(lang, BODY, event=event, detail=notice.reason, link=link, **variables)
        mail.enqueue(node, account.email or "", subject, body, lang)
    return len(notices)
