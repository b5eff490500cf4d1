"""Settings: defaults, then the data folder's ``osnode.toml``, then ``OSNODE_*`` environment variables."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

DEFAULT_DATA = "./osnode-data"
CONFIG_FILE = "osnode.toml"


class ConfigError(ValueError):
    """Settings that cannot be used (unknown key, bad value, unreadable config file)."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(DEFAULT_DATA))
    # Empty means the embedded default: a SQLite file in the data folder.
    database_url: str = ""
    # Empty means "where the server listens" (serve fills it in) or, offline, the default below.
    base_url: str = ""
    node_name: str = "Open Science Node"
    max_upload_bytes: int = 50 * 1024**3
    # OAI-PMH: items per ListRecords/ListIdentifiers page, and the contact Identify gives.
    oai_page_size: int = 500  # bench/oai.py: 500 serves ~20-50% more records/s than 100
    admin_email: str = ""
    # The node's face (web/theme.py): a line about the node for the About page and link previews, the
    # accent colour of links, header and buttons, and a logo served by the node itself (e.g. /static/logo.svg).
    node_description: str = ""
    accent_color: str = "#0b5394"
    logo_url: str = ""
    # Languages the node offers in its language switch (codes of web/i18n.py); empty offers them all.
    languages: tuple[str, ...] = ()
    # Base URLs of nodes that hold copies of our blobs, asked to repair a damaged one (fixity).
    repair_peers: tuple[str, ...] = ()
    # Cross-border policy of managed access (docs/governance.md): where this node keeps its bytes (ISO 3166-1
    # alpha-2), and the jurisdictions where copies of managed (restricted, DUO-termed) bytes may also live.
    # A GS-restricted record's own country list narrows it further; empty: nowhere but here.
    jurisdiction: str = ""
    managed_copy_jurisdictions: tuple[str, ...] = ()
    # Bounds of one harvest run (services/harvest/limits.py): requests to the peer, seconds, and
    # pages in a row that bring no record not seen before. A run stopped by a bound is recorded as
    # failed; the next one goes on from the last page stored. 100,000 pages of 100 records is a
    # list of ten million, beyond the largest repositories.
    harvest_max_requests: int = 100_000
    harvest_max_seconds: int = 12 * 3600
    harvest_idle_pages: int = 50
    # Exploring files (profiles, previews, atlas plots) runs in a child process per job, never in the web
    # server's own: these bound each job and how many run at once (see docs/security.md).
    explore_workers: int = 2  # jobs at once; more get 503 + Retry-After
    explore_seconds: int = 120  # wall-clock time of one job
    explore_cpu_seconds: int = 60  # CPU time of one job (RLIMIT_CPU)
    explore_memory_mb: int = 3072  # address space of one job (RLIMIT_AS), imported libraries included
    explore_max_cells: int = 1_000_000  # cells of an Excel sheet
    explore_max_rows: int = 20_000_000  # rows of a CSV, TSV, JSON Lines or Parquet table
    explore_max_unpacked_mb: int = 256  # decompressed bytes of an Excel workbook (a zip archive)
    explore_max_atlas_cells: int = 5_000_000  # cells (obs rows) of an .h5ad atlas
    # Start the explore fork server (pandas, pyarrow, ... imported once) when serving, so the first view
    # does not wait ~3 s; false defers it to the first job: a faster start and less memory on a node
    # whose files are never explored (the test suite's short-lived servers).
    explore_preload: bool = True

    # Accounts (services/accounts.py): who may register (open | invitation | approval), how long a browser
    # session lasts, and the failed sign-ins allowed per account and per address in a 15-minute window.
    registration: str = "open"
    session_days: int = 14
    register_min_seconds: int = 3  # a person takes longer than this to fill the form; a bot does not
    signin_failures_per_account: int = 5
    signin_failures_per_address: int = 20
    # Email (services/mail.py): the SMTP server the outbox is sent through; no host keeps mail queued.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"  # starttls | ssl | none
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    # OpenID Connect providers (services/oidc.py), a TOML table per provider:
    # [oidc.orcid] discovery = "https://orcid.org/.well-known/openid-configuration", client_id, client_secret, label
    oidc: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    # Where blobs live (storage/blobs.py): empty is the data folder's blobs/; ``s3://bucket/prefix`` is
    # S3-compatible object storage (storage/s3_blobs.py) at ``s3_endpoint`` (empty: AWS itself). Empty
    # credentials fall back to boto3's usual chain (AWS_* variables, ~/.aws, instance roles).
    blob_store: str = ""
    s3_endpoint: str = ""
    s3_region: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    # Downloads of files answer with a redirect to a presigned URL valid this many seconds; 0 streams
    # them through the node (needed when the object store is not reachable by readers).
    s3_presign_seconds: int = 0
    # Readers that need a local file (DuckDB, h5py) use a verified copy in data_dir/s3-cache, kept
    # under this size (least recently used copies go first).
    s3_cache_mb: int = 2048
    # One line per request on the server's standard error (web/accesslog.py).
    access_log: bool = True
    # Background work (docs/scale-out.md): "embedded" runs the jobs in the ``osnode serve`` process (one
    # machine, zero setup); "database" leaves them to ``osnode worker`` processes taking them from the
    # catalog's durable queue (services/queue.py), on any number of machines.
    queue: str = "embedded"
    queue_lease_seconds: int = 60  # a running job is taken over this long after its worker stops beating
    queue_retry_seconds: int = 30  # first retry of a failed job; doubled each attempt, capped at an hour
    queue_max_attempts: int = 5  # attempts before a job is dead (the admin page's dead letters)
    # Addresses of reverse proxies (nginx) whose X-Forwarded-For/-Proto are believed; "*" believes any,
    # empty believes none. Comma-separated in the environment, a list in osnode.toml.
    trusted_proxies: tuple[str, ...] = ()
    # Behind nginx: downloads answer with X-Accel-Redirect to this internal location (e.g. "/_osnode_blobs",
    # an nginx ``location ... { internal; alias <data>/blobs/; }``) once access is decided; empty serves
    # the bytes from the web process itself.
    accel_redirect: str = ""
    # COAR Notify (services/notify/): services besides the peers whose notifications the inbox accepts and to
    # which depositors may send requests, a TOML table each:
    # [notify_services.<name>] id = "https://service.example/", inbox = "https://service.example/inbox", label
    notify_services: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    notify_max_bytes: int = 65_536  # the largest notification body the inbox reads
    # DOIs (services/dois/): a DataCite repository account. With a prefix, every record published here is given
    # a DOI at once (shown "pending") and registered by a background job when the registry can be reached.
    datacite_url: str = "https://api.datacite.org"  # https://api.test.datacite.org for DataCite's test system
    datacite_prefix: str = ""  # e.g. 10.12345
    datacite_user: str = ""  # the repository id, e.g. ABC.NODE
    datacite_password: str = ""
    # Usage (services/usage/): the request header a reverse proxy sets to the reader's country (e.g. CF-IPCountry
    # or one set by nginx's geoip module); empty: countries are not known. A client (IP or account, with its
    # browser) doing more than usage_client_day_cap things in a day is unusual activity: its day is not counted.
    usage_country_header: str = ""
    usage_client_day_cap: int = 1000

    @property
    def catalog_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'catalog.sqlite').resolve()}"

    @property
    def public_url(self) -> str:
        return self.base_url or "http://127.0.0.1:8000"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


# Whole-number settings with their smallest allowed value.
_COUNTS = {
    "explore_workers": 1,
    "explore_seconds": 1,
    "explore_cpu_seconds": 1,
    "explore_memory_mb": 64,
    "explore_max_cells": 1,
    "explore_max_rows": 1,
    "explore_max_unpacked_mb": 1,
    "explore_max_atlas_cells": 1,
    "harvest_max_requests": 1,
    "harvest_max_seconds": 1,
    "harvest_idle_pages": 1,
    "session_days": 1,
    "register_min_seconds": 0,
    "signin_failures_per_account": 1,
    "signin_failures_per_address": 1,
    "smtp_port": 1,
    "s3_presign_seconds": 0,
    "s3_cache_mb": 1,
    "queue_lease_seconds": 1,
    "queue_retry_seconds": 0,
    "queue_max_attempts": 1,
}
_CHOICES = {
    "registration": ("open", "invitation", "approval"),
    "smtp_security": ("starttls", "ssl", "none"),
    "queue": ("embedded", "database"),
    "notify_max_bytes": 1024,
    "usage_client_day_cap": 1,
}


def _providers(raw: object) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """``[oidc.<name>]`` tables as a hashable, frozen value (Settings is frozen)."""
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ConfigError("oidc must be a table of providers: [oidc.<name>] with discovery, client_id, client_secret")
    needed = {"discovery", "client_id", "client_secret"}
    for name, table in raw.items():
        if not needed <= set(table):
            raise ConfigError(f"oidc.{name} needs {', '.join(sorted(needed))}")
    return tuple(
        (str(name), tuple(sorted((str(k), str(v)) for k, v in table.items()))) for name, table in sorted(raw.items())
    )


def _notify_services(raw: object) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """``[notify_services.<name>]`` tables (id and inbox: http(s) URLs) as a frozen value."""
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ConfigError("notify_services must be a table of services: [notify_services.<name>] with id, inbox")
    for name, table in raw.items():
        for key in ("id", "inbox"):
            if not str(table.get(key, "")).startswith(("https://", "http://")):
                raise ConfigError(f"notify_services.{name} needs {key}, an http(s) URL")
    return tuple(
        (str(name), tuple(sorted((str(k), str(v)) for k, v in table.items()))) for name, table in sorted(raw.items())
    )


UI_LANGUAGES = ("en", "es", "fr", "pt", "ar", "zh", "ko")
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
# WCAG AA for normal text: the accent is link text on white and the background of white header text.
MIN_ACCENT_CONTRAST = 4.5


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of a ``#rgb`` or ``#rrggbb`` colour."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(one: str, other: str) -> float:
    """WCAG 2.x contrast ratio of two colours, from 1 to 21."""
    light, dark = sorted((relative_luminance(one), relative_luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _accent(raw: object) -> str:
    value = str(raw).strip()
    if not _HEX.fullmatch(value):
        raise ConfigError(f"accent_color must be a hex colour such as #0b5394, not {raw!r}")
    if contrast_ratio(value, "#ffffff") < MIN_ACCENT_CONTRAST:
        raise ConfigError(f"accent_color {value} is too light: it needs a contrast of 4.5:1 with white (WCAG AA)")
    return value.lower()


# Quotes and angle brackets would leave the attribute; a backslash makes some browsers read "/\\host" as "//host".
_UNSAFE_IN_PATH = frozenset("\"'<> \\")


def _logo(raw: object) -> str:
    value = str(raw).strip()
    # The node's own path only: a page must load nothing from elsewhere.
    if value and (not value.startswith("/") or value.startswith("//") or any(c in value for c in _UNSAFE_IN_PATH)):
        raise ConfigError(f"logo_url must be a path on this node such as /static/logo.svg, not {raw!r}")
    return value


# On/off settings, and the words that say which (TOML gives a bool, the environment a word).
_SWITCHES = {"access_log", "explore_preload"}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _coerce(name: str, raw: object) -> object:
    if name == "accent_color":
        return _accent(raw)
    if name == "logo_url":
        return _logo(raw)
    if name in _COUNTS:
        if not str(raw).strip().isdigit() or int(str(raw)) < _COUNTS[name]:
            raise ConfigError(f"{name} must be a whole number of at least {_COUNTS[name]}, not {raw!r}")
        return int(str(raw).strip())
    if name in _CHOICES:
        if str(raw) not in _CHOICES[name]:
            raise ConfigError(f"{name} must be one of {', '.join(_CHOICES[name])}, not {raw!r}")
        return str(raw)
    if name == "oidc":
        return _providers(raw)
    if name == "notify_services":
        return _notify_services(raw)
    if name == "data_dir":
        return Path(str(raw))
    if name in _SWITCHES:
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word not in _TRUE | _FALSE:
            raise ConfigError(f"{name} must be true or false, not {raw!r}")
        return word in _TRUE
    if name == "max_upload_bytes":
        try:
            return int(str(raw))
        except ValueError:
            raise ConfigError(f"max_upload_bytes must be a whole number of bytes, not {raw!r}") from None
    if name == "oai_page_size":
        if not str(raw).isdigit() or not 1 <= int(str(raw)) <= 10_000:
            raise ConfigError(f"oai_page_size must be a whole number from 1 to 10000, not {raw!r}")
        return int(str(raw))
    if name == "languages":
        items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
        codes = tuple(dict.fromkeys(str(c).strip() for c in items if str(c).strip()))
        if any(c not in UI_LANGUAGES for c in codes):
            raise ConfigError(f"languages must be codes among {', '.join(UI_LANGUAGES)}, not {raw!r}")
        return codes
    if name == "blob_store":
        url = str(raw).strip()
        if url and not (url.startswith("s3://") and url.removeprefix("s3://").split("/")[0]):
            raise ConfigError(f"blob_store must be empty (the data folder) or s3://bucket/prefix, not {raw!r}")
        return url
    if name in ("jurisdiction", "managed_copy_jurisdictions"):
        items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
        codes = tuple(dict.fromkeys(str(c).strip().upper() for c in items if str(c).strip()))
        if any(not (len(c) == 2 and c.isalpha() and c.isascii()) for c in codes):
            raise ConfigError(f"{name} must be ISO 3166-1 alpha-2 country codes, not {raw!r}")
        if name == "jurisdiction":
            if len(codes) > 1:
                raise ConfigError(f"jurisdiction is one ISO 3166-1 alpha-2 country code, not {raw!r}")
            return codes[0] if codes else ""
        return codes
    if name == "repair_peers" or name == "trusted_proxies":
        # A TOML list, or a comma-separated string from the environment.
        items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
        return tuple(str(u).strip().rstrip("/") for u in items if str(u).strip())
    if name == "accel_redirect":
        value = str(raw).strip().rstrip("/")
        if value and (not value.startswith("/") or value.startswith("//") or any(c in value for c in _UNSAFE_IN_PATH)):
            raise ConfigError(f"accel_redirect must be a path such as /_osnode_blobs, not {raw!r}")
        return value
    return str(raw).rstrip("/") if name == "base_url" else str(raw)


def coerce(name: str, raw: object) -> object:
    """One setting's value checked as the config file's would be (the admin pages change a few at run time)."""
    return _coerce(name, raw)


def with_stored(settings: Settings, stored: dict[str, object]) -> Settings:
    """``settings`` with the values an administrator stored in the catalog; one no longer valid is skipped."""
    known = {f.name for f in fields(Settings)}
    checked: dict[str, object] = {}
    for name, raw in stored.items():
        try:
            if name in known:
                checked[name] = _coerce(name, raw)
        except ConfigError:
            continue
    return replace(settings, **checked)


def load_settings(data_dir: str | Path | None = None, **overrides: object) -> Settings:
    """Settings for the node whose data folder is ``data_dir`` (else ``$OSNODE_DATA``, else the default)."""
    folder = Path(data_dir or os.environ.get("OSNODE_DATA") or DEFAULT_DATA)
    values: dict[str, object] = {}
    config_file = folder / CONFIG_FILE
    if config_file.is_file():
        with config_file.open("rb") as handle:
            try:
                values.update(tomllib.load(handle))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{config_file} is not valid TOML: {exc}") from None
    for f in fields(Settings):
        env = os.environ.get(f"OSNODE_{f.name.upper()}")
        if env is not None and f.name != "data_dir":
            values[f.name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(Settings)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown setting(s) in {config_file}: {', '.join(sorted(unknown))}")
    settings = replace(Settings(), **{k: _coerce(k, v) for k, v in values.items()})
    return replace(settings, data_dir=folder)
