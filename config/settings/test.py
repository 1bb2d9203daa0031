"""Tests: whatever DATABASE_URL says (SQLite by default), fast hashing, eager tasks by default."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
LIANQING_DEMO = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests decide per case whether to use a real worker; the default keeps tasks in-process even
# when REDIS_URL is set, so that only the tests that ask for a worker depend on one.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
AXES_FAILURE_LIMIT = 5

# Serve static files straight from the finders while developing; no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
