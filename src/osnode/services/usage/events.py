"""Noting usage events as they happen, cheaply: one line appended to the day's log (a file in the data folder,
one ``write`` per line so processes can share it), no database write on the reader's path.

No IP address is written anywhere: the client is a hash of (account or IP address, user agent) with the day's
salt, which is deleted once the day is counted, so nothing links a reader across days or back to an address.
Robots on the COUNTER list (the ``counter-robots`` package) are not noted at all; scripts and tools on its
machine list are noted with the Machine access method.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO

import counter_robots
from sqlalchemy import select

from ...storage.catalog import insert_or_ignore
from ...storage.usage import usage_salts
from ..node import Node

INVESTIGATION, REQUEST = "investigation", "request"
REGULAR, MACHINE = "Regular", "Machine"
_COUNTRY = re.compile(r"[A-Z]{2}")
# Per opened node (its engine) and day: the salt and the open log. Looked up once per event, so kept cheap.
_days: dict[tuple[int, str, str], tuple[bytes, IO[str]]] = {}
_lock = threading.Lock()


@lru_cache(maxsize=4096)
def classify(user_agent: str) -> str | None:
    """None for a robot (not counted), else the COUNTER access method of this user agent. The machine list is
    asked first: scripts (python-requests, curl...) are on both lists, and the Code of Practice for Research
    Data counts them, as Machine access; crawlers are on the robot list only."""
    if not user_agent:
        return None
    if counter_robots.is_machine(user_agent):
        return MACHINE
    return None if counter_robots.is_robot(user_agent) else REGULAR


def log_dir(node: Node) -> Path:
    return node.settings.data_dir / "usage"


def day_of(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d")


def salt(node: Node, day: str) -> bytes:
    """The day's salt, the same in every process of the node (the first to ask stores it)."""
    with node.transaction() as tx:
        tx.execute(insert_or_ignore(tx, usage_salts).values(day=day, salt=secrets.token_hex(32)))
        stored = tx.execute(select(usage_salts.c.salt).where(usage_salts.c.day == day)).scalar_one()
    return bytes.fromhex(stored)


def _key(node: Node, day: str) -> tuple[int, str, str]:
    # The folder too: an engine's id can be reused by a node opened after another was closed.
    return (id(node.engine), str(node.settings.data_dir), day)


def _day(node: Node, day: str) -> tuple[bytes, IO[str]]:
    key = _key(node, day)
    found = _days.get(key)
    if found is None:
        with _lock:
            found = _days.get(key)
            if found is None:
                path = log_dir(node) / f"{day}.tsv"
                path.parent.mkdir(parents=True, exist_ok=True)
                # Line-buffered append: each event is one write() of one line, whole, whoever else appends.
                found = _days[key] = (salt(node, day), path.open("a", encoding="utf-8", buffering=1))
    return found


def forget(node: Node, day: str) -> None:
    """Close the day's log and drop its salt from memory (the day is being counted)."""
    with _lock:
        found = _days.pop(_key(node, day), None)
    if found is not None:
        found[1].close()


def record(
    node: Node,
    record_id: str,
    action: str,
    address: str,
    user_agent: str,
    user_id: int | None = None,
    country: str = "",
    moment: float | None = None,
) -> bool:
    """Note one event; False when it is not counted (a robot)."""
    method = classify(user_agent or "")
    if method is None:
        return False
    moment = time.time() if moment is None else moment
    day = day_of(moment)
    who = f"u{user_id}" if user_id is not None else f"a{address}"
    day_salt, log = _day(node, day)
    client = hashlib.blake2b(f"{who}\x00{user_agent}".encode(), key=day_salt[:64], digest_size=12).hexdigest()
    if country:
        country = country.strip().upper()[:2]
        country = country if _COUNTRY.fullmatch(country) else ""
    log.write(f"{moment:.3f}\t{client}\t{record_id}\t{action}\t{method}\t{country}\n")
    return True
