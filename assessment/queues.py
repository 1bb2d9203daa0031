"""Which broker queue a period's recomputation goes to: one queue per period kind.

Measured at province scale with one worker for everything (docs/scaling.md): the quarter's run,
the one the pages show first, waited in line behind the half year's and the year's, whose runs
read two and four times the contacts; change → stored number was 170 s at the median. With a
queue per kind a deployment gives each kind its own worker process
(`celery -A config worker -Q fresh.quarter`, docs/quota-and-freshness.md), so the quarter never
waits behind a longer period. A worker started without `-Q` consumes every queue
(CELERY_TASK_QUEUES), so a small deployment with one worker works unchanged.

Routing is by task name and the period argument (`CELERY_TASK_ROUTES`), not at the call sites,
so jobs kept in the outbox while the broker was down (cadres/outbox.py) go to the same queue
when they are sent.
"""

from __future__ import annotations

from typing import Any

DEFAULT_QUEUE = "celery"
QUEUES = {"quarter": "fresh.quarter", "half": "fresh.half", "year": "fresh.year"}
# Tasks whose first argument (or `period=`) is a period code: the recomputation and its steps.
PERIOD_TASKS = frozenset(
    {
        "assessment.refresh_period",
        "assessment.refresh_part",
        "assessment.refresh_finish",
        "assessment.compute_contact_stats",
    }
)


def kind_of(code: str) -> str:
    """ "2026Q4" → quarter, "2026H2" → half, "2026" → year (the code is validated elsewhere)."""
    if "Q" in code:
        return "quarter"
    if "H" in code:
        return "half"
    return "year"


def queue_for(code: str) -> str:
    return QUEUES[kind_of(code)]


def route(
    name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any
) -> dict[str, str] | None:
    """Celery router (CELERY_TASK_ROUTES): a period task to its kind's queue; others: default."""
    if name not in PERIOD_TASKS:
        return None
    code = (kwargs or {}).get("period")
    if code is None and args and isinstance(args[0], str):
        code = args[0]
    if not isinstance(code, str) or not code:
        return None
    return {"queue": queue_for(code)}
