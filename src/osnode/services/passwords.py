"""Password hashing: argon2id through argon2-cffi (never passlib, which is unmaintained).

Parameters (RFC 9106's second recommended option, "memory-constrained"): argon2id, time cost 3, memory
64 MiB, parallelism 4, 16-byte salt, 32-byte hash. bench/signin.py measures the time per sign-in on this
machine (bench/RESULTS.md). A stored hash made with weaker parameters is re-hashed at the next sign-in.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TIME_COST = 3
MEMORY_KIB = 64 * 1024
PARALLELISM = 4
MIN_LENGTH = 10
MAX_LENGTH = 1000  # longer is a denial-of-service attempt, not a password

HASHER = PasswordHasher(
    time_cost=TIME_COST,
    memory_cost=MEMORY_KIB,
    parallelism=PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)

# Verified when the account does not exist, so "no such account" costs what "wrong password" costs.
_DUMMY = HASHER.hash("osnode: no such account, same time")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored``; an empty ``stored`` (no password set) burns the same time."""
    try:
        return HASHER.verify(stored or _DUMMY, password) and bool(stored)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return HASHER.check_needs_rehash(stored)


def burn_time(password: str) -> None:
    """Spend a verification's time on nothing (the account does not exist)."""
    verify("", password)
