"""Celery tasks of the cadres app: thin, idempotent, JSON arguments."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="cadres.refresh_quota_progress")
def refresh_quota_progress(cadre_ids: list[int] | None = None) -> int:
    """Recount stored quota progress (all cadres when no ids): safe to run twice or rerun."""
    return services.cadre_progress_refresh(cadre_ids=cadre_ids)
