"""Sign-in hashing cost: the argon2id parameters osnode uses and the time one password check takes here.

Times ``services.passwords.verify`` (what every sign-in pays, found or not: a missing account verifies a
dummy hash) and ``hash_password`` (registration, password change), each ``--runs`` times in this process,
and prints p50 and p95 in milliseconds. Usage: ``uv run python bench/signin.py [--runs 30]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from osnode.services import passwords


def _timed(func, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    stored = passwords.hash_password("correct horse battery staple")
    verify = _timed(lambda: passwords.verify(stored, "correct horse battery staple"), runs)
    wrong = _timed(lambda: passwords.verify(stored, "wrong password, same cost"), runs)
    missing = _timed(lambda: passwords.burn_time("no such account"), runs)
    made = _timed(lambda: passwords.hash_password("correct horse battery staple"), runs)
    print(
        f"argon2id t={passwords.TIME_COST} m={passwords.MEMORY_KIB} KiB p={passwords.PARALLELISM}; "
        f"{runs} runs; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}"
    )
    for name, values in (
        ("verify (right)", verify),
        ("verify (wrong)", wrong),
        ("no such account", missing),
        ("hash", made),
    ):
        print(f"{name:<16} p50 {_p(values, 50):7.1f} ms   p95 {_p(values, 95):7.1f} ms")


if __name__ == "__main__":
    main()
