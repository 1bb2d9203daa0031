"""Send Celery jobs without ever failing a committed action: a job the broker cannot take now is
kept in the database (cadres.models.TaskOutbox) and sent when the broker is back.

`enqueue(task, *args)` sends after the current transaction commits (at once outside one) and says
whether the job went out; a page tells the user "pending" when it did not. The beat task
`cadres.flush_outbox` (every minute) and every successful enqueue send what was kept, oldest
first. Eager (no broker configured): the job simply runs in-process as before.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


def broker_errors() -> tuple[type[BaseException], ...]:
    """What apply_async raises when the broker is down (connection refused, timeout, DNS)."""
    import kombu.exceptions

    errors: list[type[BaseException]] = [kombu.exceptions.OperationalError, OSError]
    try:
        import redis

        errors.append(redis.exceptions.RedisError)
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    return tuple(errors)


def _send(task_name: str, args: list, kwargs: dict) -> None:
    from config.celery_app import app

    # ignore_result: a web process never waits for these results, and subscribing to the
    # result backend is what made an unreachable Redis hang the request for 19 s.
    app.send_task(task_name, args=args, kwargs=kwargs, ignore_result=True, retry=True)


def enqueue(task: Any, *args: Any, **kwargs: Any) -> bool | None:
    """Send `task` after commit. True: sent (or run eagerly); False: kept in the outbox;
    None: inside a transaction, decided at commit (callers outside transactions get a bool)."""
    if transaction.get_connection().in_atomic_block:
        # After commit, send directly: re-entering enqueue() there would register itself again
        # wherever the callback runs inside an atomic block (tests wrap everything in one),
        # a loop without end.
        transaction.on_commit(lambda: _enqueue_now(task, *args, **kwargs))
        return None
    return _enqueue_now(task, *args, **kwargs)


def _enqueue_now(task: Any, *args: Any, **kwargs: Any) -> bool:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        task.apply_async(args=args, kwargs=kwargs)
        return True
    try:
        _send(task.name, list(args), kwargs)
    except broker_errors() as exc:
        outbox_keep(task_name=task.name, args=list(args), kwargs=kwargs, error=exc)
        logger.warning("outbox: broker unreachable, kept %s for later (%s)", task.name, exc)
        return False
    outbox_flush()
    return True


def outbox_keep(
    *, task_name: str, args: list, kwargs: dict, error: BaseException | None = None
) -> None:
    """Keep a job the broker did not take, to be sent by `outbox_flush` (the one place the
    outbox is written, for every app)."""
    from .models import TaskOutbox

    TaskOutbox.objects.create(
        task=task_name, args=args, kwargs=kwargs, last_error=repr(error)[:200] if error else ""
    )


def outbox_holds(*, task_name: str, args: list) -> bool:
    """Whether a job with these arguments waits in the outbox."""
    from .models import TaskOutbox

    return TaskOutbox.objects.filter(task=task_name, args=args).exists()


def outbox_flush(*, limit: int = 500) -> int:
    """Send kept jobs, oldest first, until one fails again. Each row is claimed under a row lock
    (skip_locked) so two flushes never send the same job twice. Returns how many were sent."""
    from .models import TaskOutbox

    sent = 0
    if not TaskOutbox.objects.exists():
        return 0
    for _ in range(limit):
        with transaction.atomic():
            row = TaskOutbox.objects.select_for_update(skip_locked=True).order_by("pk").first()
            if row is None:
                break
            try:
                _send(row.task, row.args, row.kwargs)
            except broker_errors() as exc:
                row.attempts += 1
                row.last_error = repr(exc)[:200]
                row.save(update_fields=["attempts", "last_error"])
                break
            row.delete()
            sent += 1
    if sent:
        logger.info("outbox: sent %s kept job(s)", sent)
    return sent


def outbox_pending() -> int:
    from .models import TaskOutbox

    return TaskOutbox.objects.count()
