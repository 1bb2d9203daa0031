"""A Redis database of the test's own for tests that run a real Celery worker.

All xdist workers share one Redis (REDIS_URL), and a worker of the previous test that is still
stopping keeps consuming the shared queue: in a parallel run it took the next test's delayed
task and held it unacknowledged until its connection closed, 60 s later (seen in CI). Each
real-worker test therefore publishes and consumes on a database number of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def spare_database(url: str, offset: int) -> str:
    """The same Redis, database number shifted by `offset` (mod 16)."""
    base, _, db = url.rstrip("/").rpartition("/")
    number = int(db) if db.isdigit() else 0
    return f"{base}/{(number + offset) % 16}"


@contextmanager
def own_broker(offset: int) -> Iterator:
    """Point the Celery app (broker and results) at an emptied database of its own, not eager;
    restore it afterwards."""
    import redis

    from config.celery_app import app

    url = spare_database(os.environ["REDIS_URL"], offset)
    redis.Redis.from_url(url).flushdb()
    saved = (app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager = url, url, False
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield app
    finally:
        app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager = saved
        app._pool = None
        app.amqp._producer_pool = None
