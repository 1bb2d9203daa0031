"""Celery tasks of the surveys app: thin, idempotent, no arguments that could identify a vote."""

from __future__ import annotations

from celery import shared_task

from config.celery_app import IDEMPOTENT

from . import services


@shared_task(name="surveys.close_due_campaigns", **IDEMPOTENT, time_limit=120, soft_time_limit=100)
def close_due_campaigns() -> int:
    """Close every campaign past its closing time (beat, every 5 minutes). Idempotent."""
    closed = services.close_due_campaigns()
    if closed:
        services.ballot_tables_vacuum()
    return closed


@shared_task(name="surveys.vacuum_ballot_tables", **IDEMPOTENT, time_limit=120, soft_time_limit=100)
def vacuum_ballot_tables() -> bool:
    """Reclaim dead row versions of the ballot tables after a close (PostgreSQL only)."""
    return services.ballot_tables_vacuum()
