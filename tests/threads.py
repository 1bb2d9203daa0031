"""Run pieces of work at the same instant on their own threads (each with its own database
connection), for the tests that prove a row lock or a unique constraint holds under a race."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def in_threads(*works: Callable[[], object], timeout: float = 120) -> list[BaseException]:
    """Start every work together (a barrier), wait up to `timeout` seconds for each, and return
    what they raised; each thread closes its connection so the test database can be dropped."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(works))

    def run(work):
        try:
            barrier.wait()
            work()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in works]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return errors
