"""The emails the node sends, written in the recipient's language from the interface's catalogs, then queued
in the outbox (``services.mail``), which the background job delivers."""

from __future__ import annotations

from urllib.parse import quote

from ..services import mail
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
