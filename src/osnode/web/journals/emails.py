"""The editorial workflow's emails, written in each recipient's language from the interface's catalogs and
queued in the outbox (``services.mail``); and the job that reminds reviewers of their deadlines.

Every transition of a submission sends one: submitted, assigned, invited, answered, reviewed, decided,
revised, copyediting, production, proofs, proofs approved, published, and reminders."""

from __future__ import annotations

from ...domain.journals import Decision
from ...services import mail
from ...services.accounts import Account
from ...services.jobs import Job
from ...services.journals import decisions, reviews
from ...services.journals import journals as journal_service
from ...services.node import Node
from ..i18n import DEFAULT, LANGUAGES, N_, gettext

HELLO = N_("Hello %(name)s,")
SUBMITTED_SUBJECT = N_("Submission received: %(title)s")
SUBMITTED_BODY = N_('We received your submission "%(title)s" to %(journal)s. You can follow it here:')
NEW_SUBJECT = N_("New submission to %(journal)s: %(title)s")
NEW_BODY = N_('A new submission, "%(title)s", waits for its desk check in %(journal)s:')
ASSIGNED_SUBJECT = N_("You are the editor of a submission: %(title)s")
ASSIGNED_BODY = N_('You were assigned as editor of "%(title)s" in %(journal)s:')
INVITE_SUBJECT = N_("Invitation to review for %(journal)s")
INVITE_BODY = N_(
    'The editors of %(journal)s invite you to review "%(title)s", by %(due)s. Open this link to read the '
    "abstract and to accept or decline; you need no account. Keep the link: you will review from it."
)
ANSWER_SUBJECT = N_("A reviewer answered: %(title)s")
ACCEPTED_BODY = N_('%(reviewer)s accepted to review "%(title)s":')
DECLINED_BODY = N_('%(reviewer)s declined to review "%(title)s":')
REVIEWED_SUBJECT = N_("A review was submitted: %(title)s")
REVIEWED_BODY = N_('A reviewer submitted their report on "%(title)s" (round %(round)s):')
REMINDER_SUBJECT = N_("Reminder: your review for %(journal)s")
REMINDER_BODY = N_('A reminder: your review of "%(title)s" for %(journal)s is due on %(due)s. Your new link:')
DECISION_SUBJECT = N_("Decision on your submission to %(journal)s")
REVISED_SUBJECT = N_("A revision was submitted: %(title)s")
REVISED_BODY = N_('The author sent a revised version of "%(title)s" (round %(round)s):')
COPYEDIT_SUBJECT = N_("Ready for copyediting: %(title)s")
COPYEDIT_BODY = N_('"%(title)s" was accepted by %(journal)s and is ready for copyediting:')
PRODUCTION_SUBJECT = N_("Ready for production: %(title)s")
PRODUCTION_BODY = N_('"%(title)s" is copyedited and ready for its galleys:')
PROOFS_SUBJECT = N_("Please approve the proofs: %(title)s")
PROOFS_BODY = N_('The galleys of "%(title)s" are ready. Please check them and approve the proofs:')
APPROVED_SUBJECT = N_("Proofs approved: %(title)s")
APPROVED_BODY = N_('The author approved the proofs of "%(title)s"; it can be published:')
PUBLISHED_SUBJECT = N_("Published: %(title)s")
PUBLISHED_BODY = N_('"%(title)s" is published in %(journal)s:')

# The default decision letters; a journal rewords them per language (Manage > Letters). Placeholders in braces.
LETTERS = {
    Decision.ACCEPT: N_(
        'Dear {author},\n\nWe are pleased to accept your submission "{title}" for publication in {journal}.\n\n'
        "{comments}"
    ),
    Decision.MINOR: N_(
        'Dear {author},\n\nYour submission "{title}" to {journal} can be accepted after minor revisions. '
        "Please revise it in the light of the reviews below and send the revised files.\n\n{comments}"
    ),
    Decision.MAJOR: N_(
        'Dear {author},\n\nYour submission "{title}" to {journal} needs major revisions before it can be '
        "considered further. Please revise it in the light of the reviews below and send the revised files.\n\n"
        "{comments}"
    ),
    Decision.DECLINE: N_(
        'Dear {author},\n\nWe regret that we cannot publish your submission "{title}" in {journal}.\n\n{comments}'
    ),
}


def language_of(account: Account | None, fallback: str = DEFAULT) -> str:
    lang = account.language if account is not None else fallback
    return lang if lang in LANGUAGES else DEFAULT


def send(node: Node, email: str, name: str, lang: str, subject: str, body: str, link: str, **variables: str) -> int:
    lang = lang if lang in LANGUAGES else DEFAULT
    values = {"node": node.settings.node_name, "name": name, **variables}
    text = f"{gettext(lang, HELLO, **values)}\n\n{gettext(lang, body, **values)}\n\n{link}\n"
    return mail.enqueue(node, email, gettext(lang, subject, **values), text, lang)


def to_accounts(node: Node, people: list[Account], subject: str, body: str, link: str, **variables: str) -> int:
    for person in people:
        if person.email:
            send(node, person.email, person.shown_name, language_of(person), subject, body, link, **variables)
    return len(people)


def letter(node: Node, slug: str, decision: Decision, lang: str) -> str:
    """The letter an editor starts from: the journal's wording in this language, else the translated default."""
    lang = lang if lang in LANGUAGES else DEFAULT
    return decisions.letter_override(node, slug, decision, lang) or gettext(lang, LETTERS[decision])


def send_decision(node: Node, author: Account, journal: str, title: str, body: str, link: str) -> int:
    lang = language_of(author)
    subject = gettext(lang, DECISION_SUBJECT, journal=journal, title=title)
    return mail.enqueue(node, author.email or "", subject, f"{body}\n\n{link}\n", lang)


# -- reminders ---------------------------------------------------------------------------------------------

REMIND_EVERY = 6 * 3600.0


def remind(node: Node) -> int:
    """Remind every reviewer whose deadline is within three days or past (once a day at most), with a new link."""
    sent = 0
    for review, submission in reviews.due_for_reminder(node):
        journal = journal_service.get(node, submission.journal)
        token = reviews.new_token(node, review.id)
        link = f"{node.settings.public_url}/review/{token}"
        variables = dict(title=submission.title(review.language), journal=journal.title(review.language))
        send(
            node,
            review.email,
            review.name,
            review.language,
            REMINDER_SUBJECT,
            REMINDER_BODY,
            link,
            due=review.due.isoformat(),
            **variables,
        )
        sent += 1
    return sent


JOBS = [Job("journal-reminders", lambda node: REMIND_EVERY, remind)]
