"""Exploring a record's data before downloading it: table profiles, SQL queries, cell atlases.

Every use case goes through ``services.access``: only a file the viewer may download can be profiled, queried
or previewed, so an embargoed or restricted record leaks nothing through its previews.

Profiles are computed once per blob and cached in the catalog (``storage.profiles``). "Profiled when
published" is the background job below: every few seconds ``osnode serve`` profiles the files of newly
published versions, outside the publish transaction, so publishing stays as fast as before. A view that
arrives first computes the profile itself (and caches it); a per-blob lock keeps two requests from doing the
same work twice in one process.

Every read of a user file's contents — profiles, atlas summaries, plots, expression, subsets — runs in a child
process bounded in time and memory (``explore_worker``), after cheap checks of what it would produce
(``explore.limits``). A refusal is cached like any profile error, so a costly file costs once.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..domain.access import Viewer
from ..domain.errors import Forbidden, InvalidInput, NodeError
from ..domain.records import FileEntry, State, Version
from ..explore import atlas as atlases
from ..explore import limits as bounds
from ..explore import query as queries
from ..explore import render, subset, tables
from ..storage import profiles
from ..storage.catalog import files, versions
from . import access, explore_worker
from .jobs import Job
from .node import Node, utcnow

log = logging.getLogger("osnode.explore")

# A landing page computes a missing preview itself only for files this small; larger ones wait for the job.
INLINE_PROFILE_BYTES = 20 * 1024 * 1024
MAX_SUBSET_CELLS = 200_000
QUERY_LIMITS = queries.Limits(seconds=10.0, rows=1000, memory="256MB", threads=1)
EXPORT_ROWS = 100_000

MAX_CONCURRENT_QUERIES = 4
_query_slots = threading.BoundedSemaphore(MAX_CONCURRENT_QUERIES)
_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(sha256: str, fmt: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault((sha256, fmt), threading.Lock())


def work_dir(node: Node) -> Path:
    folder = node.settings.data_dir / "explore"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def local_copy(node: Node, sha256: str) -> Path:
    """A file DuckDB, pyarrow and h5py can open: the blob itself in the local folder; with S3 a verified
    copy in the node's bounded cache, which keeps any copy used in the last ten minutes (longer than an
    explore job may run), so the path outlives this call for the job that reads it."""
    with node.blobs.local_path(sha256) as path:
        return path


def explorable(version: Version) -> list[tuple[FileEntry, str]]:
    """The version's files that can be explored, with the format each is read as."""
    found = [(entry, tables.file_format(entry.key)) for entry in version.files]
    return [(entry, fmt) for entry, fmt in found if fmt is not None]


@dataclass(frozen=True)
class Target:
    version: Version
    entry: FileEntry
    path: Path
    fmt: str


def target(node: Node, any_id: str, key: str, viewer: Viewer, kinds: tuple[str, ...]) -> Target:
    """A file the viewer may download, of one of ``kinds`` (access rules first, then the format)."""
    download = access.download(node, any_id, key, viewer, use="explore")
    fmt = tables.file_format(key)
    if fmt not in kinds:
        wanted = "a table (CSV, TSV, Parquet, JSON Lines, Excel)" if "csv" in kinds else "a cell atlas (.h5ad)"
        raise InvalidInput(f"'{key}' is not {wanted}")
    return Target(download.version, download.entry, local_copy(node, download.entry.sha256), fmt)


# -- profiles -------------------------------------------------------------------------------------


def _compute(work: Path, sha256: str, fmt: str, path: Path, key: str, limits: bounds.Limits) -> dict[str, Any]:
    """The profile of one file; runs in an explore worker (``explore_worker.run``), never in the web server."""
    name = f"'{key}'"
    if fmt == "h5ad":
        with atlases.open_atlas(path) as atlas:
            bounds.check_atlas_cells(atlas.n_obs, limits, name)
            summary = atlas.summary()
            # The default plot's pixel positions, kept so that the first reader's plot is fast too.
            for embedding in summary["embeddings"][:1]:
                basis, box = embedding["name"], embedding["bounds"]
                render.pixel_offsets(atlas, basis, box, 512, _offsets_path(work, sha256, basis, 512))
            return summary
    if fmt == "xlsx":
        bounds.check_workbook(path, limits, name)
    elif fmt == "parquet":
        bounds.check_parquet(path, limits, name)
    source = tables.source_for(path, fmt, work, sha256)
    # A text table is written as Parquet while it is loaded for its profile: later queries read that copy.
    derive_to = tables.derived_path(work, sha256, fmt) if source.fmt in tables.TEXT_FORMATS else None
    profile = tables.profile_table(source, work, key, limits.max_rows, derive_to)
    if fmt in tables.TEXT_FORMATS and source.fmt not in tables.TEXT_FORMATS:  # profiled from its copy
        profile["encoding"] = tables.sniff_text(path, fmt)
    profile["format"] = fmt
    profile["validation"] = tables.validate_table(path, fmt, profile.get("encoding"))
    return profile


def _offsets_path(work: Path, sha256: str, basis: str, size: int) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", basis)[:60]
    # ".g1": plot positions computed since every atlas read goes through explore.guard; caches from
    # before (which a crafted file could have filled from outside itself) are never read again.
    return work / f"{sha256}-{safe}-{size}.g1.px.npy"


def offsets_cache(node: Node, sha256: str, basis: str, size: int) -> Path:
    """Where the pixel positions of one embedding at one plot size are kept (see ``render.pixel_offsets``)."""
    return _offsets_path(work_dir(node), sha256, basis, size)


def cached_profile(node: Node, sha256: str, fmt: str) -> dict[str, Any] | None:
    with node.engine.connect() as conn:
        return profiles.get_profile(conn, sha256, fmt)


def ensure_profile(node: Node, sha256: str, fmt: str, path: Path, key: str) -> dict[str, Any]:
    """The profile of a blob, computed and cached on first need; a file that cannot be read raises 422."""
    row = cached_profile(node, sha256, fmt)
    if row is None:
        with _lock(sha256, fmt):
            row = cached_profile(node, sha256, fmt)
            if row is None:
                row = _compute_and_store(node, sha256, fmt, path, key)
    if row["status"] != "ok":
        raise InvalidInput(row["error"] or f"'{key}' cannot be explored")
    return row["data"]


def _compute_and_store(node: Node, sha256: str, fmt: str, path: Path, key: str) -> dict[str, Any]:
    data: dict[str, Any] | None = None
    error: str | None = None
    limits = explore_worker.limits_of(node.settings)
    try:
        data = explore_worker.run(node, _compute, work_dir(node), sha256, fmt, path, key, limits, name=f"'{key}'")
    except (explore_worker.Saturated, explore_worker.Unavailable):
        raise  # not the file's fault: nothing is cached, the next view tries again
    except NodeError as exc:
        error = exc.detail.replace(str(path), key)
    copy = tables.derived_path(work_dir(node), sha256, fmt)
    with node.transaction() as tx:
        profiles.put_profile(tx, sha256, fmt, utcnow(), data, error)
        if fmt in tables.TEXT_FORMATS and copy.is_file():
            profiles.put_derived(tx, sha256, fmt, utcnow(), copy.stat().st_size, None)
    return {"status": "error" if error else "ok", "data": data, "error": error}


# -- derived copies -------------------------------------------------------------------------------


def _derive(work: Path, sha256: str, fmt: str, path: Path, encoding: str | None, limits: bounds.Limits) -> int:
    """The Parquet copy of one text table; runs in an explore worker, never in the web server."""
    source = tables.source_for(path, fmt, work, sha256, encoding, derived=False)
    return tables.derive_parquet(source, tables.derived_path(work, sha256, fmt), work, limits.max_rows)


def ensure_derived(node: Node, sha256: str, fmt: str, path: Path, key: str, encoding: str | None) -> bool:
    """Make the Parquet copy of a text table if it is missing (once: a file that cannot be copied is
    remembered); True when the copy is there to read."""
    copy = tables.derived_path(work_dir(node), sha256, fmt)
    if fmt not in tables.TEXT_FORMATS or copy.is_file() or not path.is_file():
        return copy.is_file()
    with node.engine.connect() as conn:
        known = profiles.get_derived(conn, sha256, fmt)
    if known is not None and known.status == "error":
        return False
    with _lock(sha256, "derived:" + fmt):
        if copy.is_file():
            return True
        limits = explore_worker.limits_of(node.settings)
        size, error = None, None
        try:
            size = explore_worker.run(
                node, _derive, work_dir(node), sha256, fmt, path, encoding, limits, name=f"'{key}'"
            )
        except (explore_worker.Saturated, explore_worker.Unavailable):
            return False  # not the file's fault: nothing is remembered, the file itself is read this time
        except NodeError as exc:
            error = exc.detail.replace(str(path), key)
        with node.transaction() as tx:
            profiles.put_derived(tx, sha256, fmt, utcnow(), size, error)
    return error is None and copy.is_file()


def table_profile(node: Node, any_id: str, key: str, viewer: Viewer) -> dict[str, Any]:
    t = target(node, any_id, key, viewer, tables.TABLE_FORMATS)
    return ensure_profile(node, t.entry.sha256, t.fmt, t.path, key) | {"file": key}


def preview(node: Node, version: Version, viewer: Viewer) -> list[dict[str, Any]]:
    """Small previews for a landing page: cached profiles, or fresh ones for small files."""
    if not access.files_allowed(node, version, viewer):
        return []
    shown = []
    for entry, fmt in explorable(version)[:3]:
        row = cached_profile(node, entry.sha256, fmt)
        if row is None and entry.size <= INLINE_PROFILE_BYTES and node.blobs.exists(entry.sha256):
            with suppress(NodeError):  # the error is cached and shown instead of the preview
                ensure_profile(node, entry.sha256, fmt, local_copy(node, entry.sha256), entry.key)
            row = cached_profile(node, entry.sha256, fmt)
        shown.append({"key": entry.key, "format": fmt, "profile": row})
    return shown


# -- queries --------------------------------------------------------------------------------------


def query_sources(node: Node, version: Version) -> dict[str, tables.TableSource]:
    """The version's tables as DuckDB sources, named as the views the SQL sees."""
    entries = [(e, fmt) for e, fmt in explorable(version) if fmt in tables.TABLE_FORMATS]
    names = queries.view_names([e.key for e, _ in entries])
    sources = {}
    for entry, fmt in entries:
        path = local_copy(node, entry.sha256)
        row = cached_profile(node, entry.sha256, fmt)
        if row is None and fmt == "xlsx":
            # Converting a workbook is costly: only a bounded profile job does it, never this process.
            try:
                ensure_profile(node, entry.sha256, fmt, path, entry.key)
            except InvalidInput:
                continue
            row = cached_profile(node, entry.sha256, fmt)
        if row is not None and row["status"] != "ok":
            continue  # a file that is not a readable table has no view
        encoding = row["data"].get("encoding") if row else None
        with suppress(NodeError):  # without a copy, the file itself is read, as before
            ensure_derived(node, entry.sha256, fmt, path, entry.key, encoding)
        try:
            sources[names[entry.key]] = tables.source_for(path, fmt, work_dir(node), entry.sha256, encoding)
        except NodeError:
            continue
    return sources


def tables_of(node: Node, any_id: str, viewer: Viewer) -> tuple[Version, dict[str, str]]:
    """The version and its queryable tables (view name -> file key)."""
    version = access.readable_version(node, any_id, viewer)
    if not access.files_allowed(node, version, viewer):
        raise Forbidden("the files of this record are not available to you, so they cannot be queried")
    entries = [e for e, fmt in explorable(version) if fmt in tables.TABLE_FORMATS]
    names = queries.view_names([e.key for e in entries])
    return version, {names[e.key]: e.key for e in entries}


class Busy(NodeError):
    """Too many queries at once: the client may try again shortly."""

    status = 429
    title = "Too many requests"


def run_query(node: Node, any_id: str, sql: str, viewer: Viewer, export: bool = False) -> queries.QueryResult:
    version, views = tables_of(node, any_id, viewer)
    if not views:
        raise InvalidInput(f"version {version.id} has no tables to query")
    access.log_use(node, version, viewer, "query", {"sql": sql[:2000]})
    sources = query_sources(node, version)
    limits = QUERY_LIMITS
    if export:
        limits = queries.Limits(limits.seconds * 3, EXPORT_ROWS, limits.memory, limits.threads)
    # Each query may use a thread and its memory limit; a few at a time keep the node's memory bounded.
    if not _query_slots.acquire(timeout=limits.seconds):
        raise Busy("the node is busy with other queries; try again in a moment")
    try:
        return queries.run_query(sources, sql, limits, as_arrow=export)
    finally:
        _query_slots.release()


# -- atlases --------------------------------------------------------------------------------------


def atlas_summary(node: Node, any_id: str, key: str, viewer: Viewer) -> dict[str, Any]:
    return _atlas(node, any_id, key, viewer)[1] | {"file": key}


def _atlas(node: Node, any_id: str, key: str, viewer: Viewer) -> tuple[Target, dict[str, Any]]:
    """The atlas file a viewer may download and its cached summary (which refuses an atlas past the bounds)."""
    t = target(node, any_id, key, viewer, ("h5ad",))
    return t, ensure_profile(node, t.entry.sha256, "h5ad", t.path, key)


# The jobs below run in an explore worker: module-level functions of paths and plain values.


def _plot_job(path: Path, basis: str, box: list[float], options: dict[str, Any], size: int, cache: Path) -> render.Plot:
    with atlases.open_atlas(path) as atlas:
        return render.render_embedding(atlas, basis, box, **options, size=size, cache=cache)


def _search_genes_job(path: Path, q: str) -> list[str]:
    with atlases.open_atlas(path) as atlas:
        return atlas.search_genes(q)


def _expression_job(path: Path, field: str, genes: list[str]) -> dict[str, Any]:
    with atlases.open_atlas(path) as atlas:
        return atlases.expression_by_category(atlas, field, genes)


def _subset_job(path: Path, field: str, values: list[str], out: Path) -> None:
    with atlases.open_atlas(path) as atlas:
        subset.write_subset(atlas, atlases.category_mask(atlas, field, values), out, MAX_SUBSET_CELLS)


def plot(
    node: Node,
    any_id: str,
    key: str,
    viewer: Viewer,
    basis: str | None = None,
    colour_by: str | None = None,
    gene: str | None = None,
    filter_field: str | None = None,
    filter_values: list[str] | None = None,
    size: int = 512,
) -> render.Plot:
    t, summary = _atlas(node, any_id, key, viewer)
    bases = {e["name"]: e["bounds"] for e in summary["embeddings"]}
    if not bases:
        raise InvalidInput(f"'{key}' has no embedding (UMAP, t-SNE, PCA) to plot")
    chosen = basis or next(iter(bases))
    if chosen not in bases:
        raise InvalidInput(f"'{key}' has no embedding '{chosen}'; it has {', '.join(bases)}")
    options = {
        "colour_by": colour_by or None,
        "gene": gene or None,
        "filter_field": filter_field or None,
        "filter_values": filter_values,
    }
    cache = offsets_cache(node, t.entry.sha256, chosen, size)
    return explore_worker.run(node, _plot_job, t.path, chosen, bases[chosen], options, size, cache, name=f"'{key}'")


def search_genes(node: Node, any_id: str, key: str, viewer: Viewer, q: str) -> list[str]:
    t, _ = _atlas(node, any_id, key, viewer)
    return explore_worker.run(node, _search_genes_job, t.path, q, name=f"'{key}'")


def expression(node: Node, any_id: str, key: str, viewer: Viewer, field: str, genes: list[str]) -> dict[str, Any]:
    if not genes:
        raise InvalidInput("name at least one gene")
    t, _ = _atlas(node, any_id, key, viewer)
    return explore_worker.run(node, _expression_job, t.path, field, genes, name=f"'{key}'")


def subset_file(node: Node, any_id: str, key: str, viewer: Viewer, field: str, values: list[str]) -> Path:
    """A new .h5ad of the chosen categories' cells, in a temporary file the caller deletes."""
    if not values:
        raise InvalidInput("choose at least one category")
    t, _ = _atlas(node, any_id, key, viewer)
    fd, name = tempfile.mkstemp(dir=work_dir(node), suffix=".h5ad")
    os.close(fd)
    out = Path(name)
    try:
        explore_worker.run(node, _subset_job, t.path, field, values, out, name=f"'{key}'")
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out


# -- the background job ---------------------------------------------------------------------------


def profile_pending(node: Node, limit: int = 20, newest: int = 2000) -> int:
    """Profile the explorable files among the ``newest`` files of published versions that have no
    profile yet (others are profiled when first viewed)."""
    with node.engine.connect() as conn:
        # Newest files first, through ix_files_created, and then their versions by key: the job runs
        # every few seconds, and one query joining the two (or sorting by publication) scanned all
        # versions each time, seconds of CPU on a node of a million records.
        recent = conn.execute(
            select(files.c.key, files.c.sha256, files.c.version_id).order_by(files.c.created.desc()).limit(newest)
        ).all()
        version_ids = sorted({r.version_id for r in recent})
        published = set()
        for start in range(0, len(version_ids), 500):
            published.update(
                conn.execute(
                    select(versions.c.id).where(
                        versions.c.id.in_(version_ids[start : start + 500]), versions.c.state == State.PUBLISHED.value
                    )
                ).scalars()
            )
        rows = [r for r in recent if r.version_id in published]
        wanted = {(r.sha256, fmt): r.key for r in rows if (fmt := tables.file_format(r.key))}
        done = profiles.profiled_keys(conn, list(wanted))
    count = 0
    for (sha256, fmt), key in wanted.items():
        if count >= limit:
            break
        if (sha256, fmt) in done or not node.blobs.exists(sha256):
            continue
        with suppress(NodeError):  # cached as an error; readers see the message
            ensure_profile(node, sha256, fmt, local_copy(node, sha256), key)
        count += 1
    return count


# What this module gives the server's scheduler (registered by the built-in plugin, osnode.plugins).
JOBS: list[Job] = [Job("explore-profiles", lambda node: 10.0, profile_pending)]
