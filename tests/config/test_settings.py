"""Production settings fail fast with the missing variable's name; check --deploy is clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))
    }
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.production", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_secret_key_names_the_variable():
    result = _manage("check", DATABASE_URL="sqlite:///x.db", DJANGO_ALLOWED_HOSTS="a.org")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_missing_database_url_names_the_variable():
    result = _manage("check", DJANGO_SECRET_KEY="k" * 60, DJANGO_ALLOWED_HOSTS="a.org")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_check_deploy_is_clean():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY="s3cr3t-" * 10,
        DJANGO_ALLOWED_HOSTS="lianqing.example.org",
        DATABASE_URL="sqlite:///unused.db",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_beat_schedule_names_registered_tasks():
    from config.celery_app import app

    app.loader.import_default_modules()
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, f"{name}: {entry['task']} is not a registered task"


def test_email_url_picks_the_mail_server():
    """Console by default (nothing leaves the machine); EMAIL_URL names an SMTP server."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, s.EMAIL_HOST_USER)"
    )

    def backend(**env: str) -> str:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
        environment.update(DJANGO_SETTINGS_MODULE="config.settings.local", **env)
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return result.stdout.strip()

    assert backend().startswith("django.core.mail.backends.console.EmailBackend")
    smtp = backend(EMAIL_URL="smtp+tls://lq:pw@mail.example.org:587")
    assert smtp == "django.core.mail.backends.smtp.EmailBackend mail.example.org 587 True lq"


def test_a_task_of_a_dead_worker_comes_back_in_about_five_minutes():
    """Redelivery is bounded by the visibility timeout plus the period of kombu's scan of the
    unacknowledged tasks (its default, 10 s × 10, made it 400 s, not about five minutes); and
    the timeout stays above the longest task's hard time limit, or a running task would be
    delivered twice."""
    from django.conf import settings

    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    scan_period = options["unacked_restore_interval"] * options["unacked_restore_throttle"]
    assert scan_period <= 10
    assert options["visibility_timeout"] + scan_period <= 5 * 60 + 10
    assert options["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT
