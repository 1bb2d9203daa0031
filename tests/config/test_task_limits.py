"""Every Celery task's hard time limit stays below the broker's visibility timeout.

Redis redelivers a message nobody acknowledged once `visibility_timeout` has passed since it was
delivered; with acks_late that includes a task still running on a live worker. A task allowed to
run longer than the timeout is therefore handed to a second worker while the first still runs it
(cadres.roster_commit had 900 s and cadres.retention_sweep 1800 s against 300 s). This walks
every registered task, so a newcomer's task cannot regress it.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from config.celery_app import app


def _limits(task) -> tuple[float | None, float | None]:
    """The limits a worker applies: the task's own, else the app's defaults."""
    hard = task.time_limit if task.time_limit is not None else app.conf.task_time_limit
    soft = (
        task.soft_time_limit if task.soft_time_limit is not None else app.conf.task_soft_time_limit
    )
    return hard, soft


def _project_tasks() -> list[str]:
    app.loader.import_default_modules()  # autodiscovery: every app's tasks.py is registered
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_the_walk_finds_the_project_tasks():
    names = _project_tasks()
    # The long ones that once exceeded the timeout are among those walked.
    assert {"cadres.roster_commit", "cadres.retention_sweep", "cadres.roster_check"} <= set(names)
    assert len(names) >= 10


@pytest.mark.parametrize("name", _project_tasks())
def test_hard_limit_is_below_the_visibility_timeout(name):
    timeout = app.conf.broker_transport_options["visibility_timeout"]
    assert timeout == settings.CELERY_VISIBILITY_TIMEOUT
    hard, soft = _limits(app.tasks[name])
    assert hard is not None, f"{name} has no hard time limit"
    assert hard < timeout, f"{name}: time_limit {hard} s ≥ visibility_timeout {timeout} s"
    # The soft limit comes first, so the task can say why it stopped.
    assert soft is not None and soft < hard, f"{name}: soft limit {soft} not below {hard}"


def test_builtin_tasks_get_the_default_limit_below_the_timeout():
    timeout = app.conf.broker_transport_options["visibility_timeout"]
    for name in app.tasks:
        hard, _soft = _limits(app.tasks[name])
        assert hard is not None and hard < timeout, name
