"""The routes of issue 7 in one router: tus uploads, blobs for peers, and the fixity admin page."""

from __future__ import annotations

from fastapi import APIRouter

from . import admin_fixity, blobs_api, tus

router = APIRouter()
router.include_router(tus.router)
router.include_router(blobs_api.router)
router.include_router(admin_fixity.router)
