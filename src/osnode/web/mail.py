"""The emails the node sends, written in the recipient's language from the interface's catalogs, then queued
in the outbox (``services.mail``), which the background job delivers."""

from __future__ import annotations

from urllib.parse import quote

from ..services import co_owners, mail
from ..services.accounts import Account
from ..services.node import Node
from .i18n import DEFAULT, LANGUAGES, N_, gettext

VERIFY_SUBJECT = N_("Confirm your email address at %(node)s")
VERIFY_BODY = N_(
    "Hello %(name)s,\n\nPlease confirm your email address by opening this link within two days:\n\n%(link)s\n\n"
    "If you did not create an account at %(node)s, you can ignore this message."
)
RESET_SUBJECT = N_("Reset your password at %(node)s")
RESET_BODY = N_(
    "Hello %(name)s,\n\nSomeone (we hope you) asked to reset the password of your account. Open this link within "
    "one hour to choose a new one; it works once:\n\n%(link)s\n\nIf it was not you, ignore this message: your "
    "password stays as it is."
)
EXISTS_SUBJECT = N_("You already have an account at %(node)s")
EXISTS_BODY = N_(
    "Hello %(name)s,\n\nSomeone (we hope you) tried to register at %(node)s with this email address, which already "
    "has an account. To sign in, or to reset your password, go to:\n\n%(link)s"
)

INVITE_SUBJECT = N_("You are invited to %(node)s")
INVITE_BODY = N_(
    "Hello,\n\nYou are invited to create an account at %(node)s. Open this link within 14 days to register with "
    "this email address; it works once:\n\n%(link)s"
)


def _language(account: Account) -> str:
    return account.language if account.language in LANGUAGES else DEFAULT


def _queue(node: Node, account: Account, subject: str, body: str, link: str) -> int:
    lang = _language(account)
    variables = {"node": node.settings.node_name, "name": account.shown_name, "link": link}
    text_subject = gettext(lang, subject, **variables)
    text_body = gettext(lang, body, **variables)
    return mail.enqueue(node, account.email or "", text_subject, text_body, lang)


def send_verification(node: Node, account: Account, token: str) -> int:
    link = f"{node.settings.public_url}/verify?token={quote(token)}"
    return _queue(node, account, VERIFY_SUBJECT, VERIFY_BODY, link)


def send_reset(node: Node, account: Account, token: str) -> int:
    link = f"{node.settings.public_url}/reset?token={quote(token)}"
    return _queue(node, account, RESET_SUBJECT, RESET_BODY, link)


def send_already_registered(node: Node, account: Account) -> int:
    return _queue(node, account, EXISTS_SUBJECT, EXISTS_BODY, f"{node.settings.public_url}/login")


def send_invitation(node: Node, email: str, token: str, language: str) -> int:
    """The invitation, in the language the administrator chose for this person."""
    lang = language if language in LANGUAGES else DEFAULT
    link = f"{node.settings.public_url}/register?invitation={quote(token)}&email={quote(email)}"
    variables = {"node": node.settings.node_name, "link": link}
    subject = gettext(lang, INVITE_SUBJECT, **variables)
    return mail.enqueue(node, email, subject, gettext(lang, INVITE_BODY, **variables), lang)


SHARE_SUBJECT = N_("%(inviter)s invites you to co-own a record at %(node)s")
SHARE_BODY = N_(
    "Hello,\n\n%(inviter)s invites you to co-own the record %(record)s at %(node)s: to edit it, publish it and "
    "start new versions. Open this link within 14 days, signed in with an account that has this email address "
    "(or register one first, with this address):\n\n%(link)s\n\nIf you do not know %(inviter)s, you can ignore "
    "this message."
)


def send_co_owner_invitation(node: Node, invitation: co_owners.Invitation, inviter: str) -> int:
    """To the invited address, in its account's language if it has one, else the node's default."""
    account = invitation.account
    lang = _language(account) if account is not None else DEFAULT
    base = node.settings.public_url
    variables = {
        "node": node.settings.node_name,
        "inviter": inviter or node.settings.node_name,
        "record": f"{base}/records/{quote(invitation.record_id)}",
        "link": f"{base}/co-owner?token={quote(invitation.token)}",
    }
    subject = gettext(lang, SHARE_SUBJECT, **variables)
    return mail.enqueue(node, invitation.email, subject, gettext(lang, SHARE_BODY, **variables), lang)


# -- curation ---------------------------------------------------------------------------------------

REQUEST_SUBJECT = N_("New request for the community %(community)s at %(node)s")
REQUEST_BODY = N_(
    'Hello %(name)s,\n\n%(depositor)s asks for the record "%(title)s" to be included in the community '
    "%(community)s.\n\nTheir message:\n%(note)s\n\nReview it here:\n\n%(link)s"
)
ACCEPTED_SUBJECT = N_("Your record was accepted into %(community)s")
ACCEPTED_BODY = N_(
    'Hello %(name)s,\n\nThe curators of the community %(community)s accepted your record "%(title)s".\n\n'
    "Their message:\n%(note)s\n\n%(link)s"
)
DECLINED_SUBJECT = N_("Your record was not accepted into %(community)s")
DECLINED_BODY = N_(
    'Hello %(name)s,\n\nThe curators of the community %(community)s declined your record "%(title)s".\n\n'
    "Their message:\n%(note)s\n\n%(link)s"
)


def _curation(node: Node, account: Account, subject: str, body: str, **variables: str) -> int:
    lang = _language(account)
    variables = {"node": node.settings.node_name, "name": account.shown_name, **variables}
    return mail.enqueue(
        node, account.email or "", gettext(lang, subject, **variables), gettext(lang, body, **variables), lang
    )


def send_new_request(
    node: Node, curators: list[Account], depositor: str, community: str, title: str, message: str, link: str
) -> int:
    """Tell each curator of the community (in their own language) that a record waits for them."""
    for curator in curators:
        _curation(
            node,
            curator,
            REQUEST_SUBJECT,
            REQUEST_BODY,
            depositor=depositor,
            community=community,
            title=title,
            note=message or "—",
            link=link,
        )
    return len(curators)


def send_decision(
    node: Node, depositor: Account, accepted: bool, community: str, title: str, message: str, link: str
) -> int:
    subject, body = (ACCEPTED_SUBJECT, ACCEPTED_BODY) if accepted else (DECLINED_SUBJECT, DECLINED_BODY)
    return _curation(node, depositor, subject, body, community=community, title=title, note=message or "—", link=link)
