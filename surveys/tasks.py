"""Celery tasks of the surveys app: thin, idempotent, no arguments that could identify a vote."""

from __future__ import annotations

from celery import shared_task

from config.celery_app import IDEMPOTENT

from . import services, settlement


@shared_task(name="surveys.close_due_campaigns", **IDEMPOTENT, time_limit=120, soft_time_limit=100)
def close_due_campaigns() -> int:
    """End voting of every campaign past its closing time (beat, every 5 minutes). Idempotent.
    Counting is the scrutineers' settlement, never a job: no job ever holds the key."""
    return services.close_due_campaigns()


@shared_task(name="surveys.vacuum_ballot_tables", **IDEMPOTENT, time_limit=120, soft_time_limit=100)
def vacuum_ballot_tables() -> bool:
    """Rewrite the ballot tables' files (VACUUM FULL, PostgreSQL only). Settlement does it
    itself after commit; this is for an operator who wants to run it again."""
    return settlement.ballot_tables_rewrite()
