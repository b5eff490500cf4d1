"""The node's own jobs, landing-page panels and routes, registered like any plugin's."""

from __future__ import annotations

from fastapi import APIRouter

from ..services import admin_peers, explore, fixity, governance, harvest, mail, replication, uploads, visas
from ..services.dois import registration as dois
from ..services.harvest import OAIClient
from ..services.jobs import Job
from ..services.notify import outbox as notify_outbox
from ..services.queue import Handler
from ..services.usage import counting as usage_counting
from ..services.usage import federation as usage_federation
from ..web import (
    account_home,
    account_pages,
    admin_harvest,
    admin_pages,
    api,
    catalog,
    communities,
    community_admin,
    curation,
    deposit_pages,
    dump,
    face,
    governance_api,
    governance_pages,
    notify,
    oai,
    oidc_pages,
    pages,
    panels,
    search,
    software,
    transfer_routes,
    upload_pages,
    workspace,
)
from ..web import dois as doi_pages
from ..web import explore as explore_pages
from ..web import usage as usage_pages
from ..web.journals import emails as journal_emails
from ..web.journals import manage as journal_manage
from ..web.journals import public as journal_pages
from ..web.journals import review as journal_review
from ..web.journals import workflow as journal_workflow
from .hookspecs import hookimpl

# How often the server looks for peers due a harvest (each peer has its own interval).
HARVEST_CHECK_SECONDS = 60.0
# How often the server looks for harvested records whose files are not here yet.
REPLICATE_CHECK_SECONDS = 300.0

# Replication runs after the harvests (listed first), so newly harvested records get their files.
# One-off tasks for ``osnode worker`` (queued by a use case with their arguments).
TASKS: dict[str, Handler] = {**admin_peers.TASKS}

JOBS: list[Job] = [
    *fixity.JOBS,
    *uploads.JOBS,
    *explore.JOBS,
    *mail.JOBS,  # the email outbox, when an SMTP server is configured
    *journal_emails.JOBS,  # reminders to reviewers (written in their language, hence from the web layer)
    *notify_outbox.JOBS,  # COAR Notify notifications to peers and services, retried with backoff
    *dois.JOBS,  # DOI registration, when a DataCite account is configured
    *usage_counting.JOBS,  # yesterday's usage log counted (COUNTER), then deleted
    *usage_federation.JOBS,  # the peers' usage of copies of our records, read from their feeds
    *governance.JOBS,  # expired grants noted in the audit log
    *visas.JOBS,  # revoked grants harvested from peers: their visas are refused
    Job("harvest", lambda _node: HARVEST_CHECK_SECONDS, lambda node: harvest.harvest_due(node, OAIClient)),
    Job("replicate", lambda _node: REPLICATE_CHECK_SECONDS, lambda node: replication.replicate_all(node, OAIClient)),
]

PANELS: list[panels.Provider] = [
    panels.replicas_panel,
    admin_harvest.sources_panel,
    software.software_panel,
    explore_pages.preview_panel,
    journal_pages.journal_panel,  # "published in": the journal and issue of an article
    doi_pages.doi_panel,  # the record's DOI, "pending" until registered; the registry's refusal for admins
    usage_pages.usage_panel,  # views, downloads, uniques; the network's totals by country
    notify.notify_panel,  # reviews, endorsements, announced relationships; review requests for owners
    governance_pages.managed_panel,  # data-use terms, and the way to request access
]

ROUTES: list[APIRouter] = [
    api.router,
    pages.router,
    catalog.router,  # /api/catalog.ttl: DCAT-AP pages for open-data portals
    oai.router,
    search.router,
    transfer_routes.router,  # tus uploads, blobs for peers, /admin/fixity
    communities.router,
    dump.router,
    admin_harvest.router,  # /admin/peers
    admin_pages.router,  # /admin, /admin/users, /admin/settings
    explore_pages.router,  # previews, SQL queries, cell atlases
    software.router,  # SWHID browse/resolver/API
    face.router,  # favicons, /about, /communities pages
    upload_pages.router,  # /records/{id}/upload: the form, with a tus script when JS runs
    account_pages.router,  # /login, /logout, /register, /verify, /forgot, /reset
    account_home.router,  # /account
    oidc_pages.router,  # /login/oidc/{provider}: ORCID and the operator's OpenID Connect providers
    deposit_pages.router,  # /deposit/new, /deposit/{id}
    workspace.router,  # /my: drafts, records, co-owners (invited by email), my community requests
    community_admin.router,  # /communities-new, /communities/{slug}/manage: create, edit, curators
    curation.router,  # submit to a community; /communities/{slug}/requests: the review queue
    journal_manage.router,  # /journals-new, /journals/{slug}/manage, letters, issues (before the public pages)
    journal_workflow.router,  # /journals/{slug}/submit, /submissions/{id}: the editorial workflow
    journal_review.router,  # /review/{token}: reviewing from the emailed link, without an account
    journal_pages.router,  # /journals, /journals/{slug}: home, issues, archive, about, feed
    doi_pages.router,  # an admin sends a refused DOI again
    usage_pages.router,  # /api/reports/ir: the COUNTER R5.1 item report
    notify.router,  # /inbox (COAR Notify over LDN), review requests, /notify/requests
    governance_api.router,  # /api/committees, /api/access-requests, /api/grants: managed access
    governance_api.pages,  # /records/{id}/policy.jsonld: ODRL
    governance_pages.router,  # /records/{id}/access-request, /access/requests, /committees
]


@hookimpl
def register_jobs() -> list[Job]:
    return JOBS


@hookimpl
def register_panels() -> list[panels.Provider]:
    return PANELS


@hookimpl
def register_routes() -> list[APIRouter]:
    return ROUTES
