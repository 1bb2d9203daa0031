"""Settings shared by every environment.

The environment is read once, here. Defaults run on a bare machine (SQLite, tasks executed
in-process); PostgreSQL, Redis and a Celery worker take over when DATABASE_URL / REDIS_URL say so.
"""

from __future__ import annotations

from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-dev-only-key-never-in-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# Demo logins (admin, county, township, cadre) only work on a development box or when a demo
# deployment says so explicitly: a forgotten demo account must never open a real installation.
LIANQING_DEMO = env.bool("LIANQING_DEMO", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tables2",
    "django_filters",
    "axes",
    "simple_history",
    "csp",  # its system check flags settings left in the pre-4.0 CSP_* format
    "cadres",
    "contacts",
    "surveys",
    "activities",
    "assessment",
]

MIDDLEWARE = [
    # First: a query string longer than production's front servers accept is a 414 here too.
    "config.middleware.QueryStringLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # A row deleted by someone else between a view's lookup and its write: a message, not 500.
    "config.middleware.VanishedRowMiddleware",
    # Last, as django-axes requires: it inspects the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

# Only for the server `manage.py benchmark_pages` starts: timing headers and the floor page
# (config/benchmark.py). Never set in a deployment.
LIANQING_BENCHMARK = env.bool("LIANQING_BENCHMARK", default=False)
if LIANQING_BENCHMARK:
    MIDDLEWARE.insert(0, "config.benchmark.ServerTimingMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.navigation.navigation",
                "assessment.context_processors.notifications",
            ],
            # Not in an app's templatetags/: config is the project, not an installed app.
            "libraries": {
                "panels": "config.panels",
                "row_urls": "config.row_urls",
                "tables": "config.tables",
            },
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout keep the single-file demo database usable while an in-process task
    # writes; without them a second request fails with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) are a PostgreSQL optimisation for province scale; the SQLite
# development database builds the same index without the extra columns, which is fine.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "cadres.User"
AUTHENTICATION_BACKENDS = [
    # Axes first so that a locked-out user is refused before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "cadres.auth.DemoAwareModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: five failures in a row from the same username + address lock that pair for
# 30 minutes. Locking the username alone would let anybody lock a cadre out from anywhere.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploads (photos, roster files) larger than this are rejected by the forms; keep the request
# limit a little above it so the form, not Django, produces the (Chinese) error message.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "lianqing",
            # Short timeouts: with Redis unreachable a request must fall back (config/ratelimit)
            # within a second, not hang on the kernel's connect timeout.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery. Without a broker tasks run in-process (eager), so `make run` needs nothing else.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Time limits are per task (config/celery_app.py: TASK_LIMITS and each @shared_task); this
# default only catches a task that names none. It stays below the visibility timeout (below).
CELERY_TASK_TIME_LIMIT = 240
CELERY_TASK_SOFT_TIME_LIMIT = 210
# Tasks are idempotent, so a task whose worker died is redelivered rather than lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One queue per period kind for the recomputation (assessment/queues.py: the quarter never waits
# behind the year); a worker started without -Q consumes all of these.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [
    Queue(name) for name in ("celery", "fresh.quarter", "fresh.half", "fresh.year")
]
CELERY_TASK_ROUTES = ("assessment.queues.route",)
# Redis redelivers a message nobody acknowledged once `visibility_timeout` has passed since it
# was delivered (checked every few seconds by any running worker). When the whole worker is
# killed (kill -9 of every process) no child is left to say "worker lost", so this timeout is the
# only way the task comes back: 300 s means redelivery within five minutes of a worker being up
# again (Redis' default is an hour). It must stay longer than the longest task's hard time limit
# (240 s, compute_scores), or a task still running on a live worker would be delivered a second
# time. Lowered through the environment by the kill -9 test only.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=300)
# How often a worker looks for such messages. kombu's default scans every 10 s × 10 calls, i.e.
# every 100 s, so a task could come back 400 s after its delivery, not 300; one scan (a ZRANGE)
# every 10 s makes it at most 310 s. Lowered through the environment by the kill -9 test only.
CELERY_UNACKED_RESTORE_INTERVAL = env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10)
# With the broker unreachable a web request must fail fast (and keep the job in the outbox,
# cadres/outbox.py), not retry for 19 s as Celery's defaults did.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": CELERY_UNACKED_RESTORE_INTERVAL,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
    # Connecting to publish: one quick retry, then the caller keeps the job in the outbox.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 10
# The Redis result backend retried a lost connection 20 times, a second apart, inside
# apply_async (the 19 s of "现在计算"): once, quickly, is enough.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 0.5,
    }
}
# The beat schedule is in config/celery_app.py, in code, one comment per entry.

# django-tables2's Bootstrap 5 template with the body written in Python (config/tables.py).
DJANGO_TABLES2_TEMPLATE = "django_tables2/lianqing.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table table-sm table-hover align-middle"}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

# Content Security Policy (django-csp 4): everything comes from this origin and nothing runs or
# styles inline — no 'unsafe-inline', no 'unsafe-eval', no nonces. Page behaviour is in static
# files bound by data attributes (static/lianqing/lianqing.js), chart data travels in json_script
# blocks (type application/json, never executed), widths and heights are classes. An injected
# <script> or style="" is refused by the browser even if a template ever failed to escape it.
# - img-src data: QR codes on the voting-code slips are data: URIs, and Bootstrap draws its
#   toggler, select arrow and close icons as data: SVG backgrounds.
# - frame-ancestors 'none' is the CSP form of X_FRAME_OPTIONS = "DENY" above (both kept for old
#   browsers); form-action 'self' keeps a forged form from posting anywhere else.
# - HTMX is not used; if it is added, set htmx.config.includeIndicatorStyles = false (it would
#   inject a <style>) through <meta name="htmx-config">.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # The request logger would print the path of every 4xx, and public voting paths could
        # carry a code; surveys logs nothing of its own near a vote (see docs/ballot-anonymity.md).
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

# --- cadres ---
# One cadre holds at most this many times their type's quota of youths (cadre_youths_link refuses
# more, on every path: registry, quick log, roster import). 3 × 100 is far above a real list.
LIANQING_LINK_CEILING_FACTOR = env.int("LIANQING_LINK_CEILING_FACTOR", default=3)
# Retention (PIPL art. 19, cadres/privacy.py): a youth with no link and no contact for this many
# years, or past the league age limit, is anonymised by the weekly beat task (`retention_report`
# shows the same list first, without writing).
LIANQING_RETENTION_YEARS = env.int("LIANQING_RETENTION_YEARS", default=3)
LIANQING_LEAGUE_AGE_LIMIT = env.int("LIANQING_LEAGUE_AGE_LIMIT", default=28)
# Exports (cadres/exports.py): a list of more rows than this is exported by a background job
# (cadres/export_jobs.py) into a file under LIANQING_EXPORT_DIR (outside MEDIA_ROOT: personal
# data, served only to the user who asked), kept LIANQING_EXPORT_KEEP_HOURS, then purged hourly.
# With workers on other machines the directory must be shared with the web processes.
LIANQING_EXPORT_INLINE_MAX = env.int("LIANQING_EXPORT_INLINE_MAX", default=2000)
LIANQING_EXPORT_KEEP_HOURS = env.int("LIANQING_EXPORT_KEEP_HOURS", default=24)
LIANQING_EXPORT_DIR = env.path("LIANQING_EXPORT_DIR", default=BASE_DIR / "private" / "exports")
# The youth self-join page (/join/<token>/) accepts this many submissions a minute per address.
LIANQING_JOIN_RATE = env.int("LIANQING_JOIN_RATE", default=5)

# --- activities ---
# Staff and responsible cadres may record attendance this many days after an activity ended.
LIANQING_LATE_ATTENDANCE_DAYS = env.int("LIANQING_LATE_ATTENDANCE_DAYS", default=30)

# --- contacts ---
# A linked youth with no contact by their cadre for this many days is "dormant".
LIANQING_DORMANT_DAYS = env.int("LIANQING_DORMANT_DAYS", default=90)
# Seconds between a change and the coalesced recomputation that includes it (and every later
# change until it starts): assessment/freshness.py. With a worker per period kind at province
# scale, 20 s gave change → stored median 23 s for the quarter and 40 s over all periods
# (docs/scaling.md; one worker for everything: 240 s).
LIANQING_FRESHNESS_DEBOUNCE_SECONDS = env.int("LIANQING_FRESHNESS_DEBOUNCE_SECONDS", default=20)
# Cadres per bounded step of a whole period's recomputation (assessment/chunked.py): keeps the
# year's whole run at province scale inside its task time limit.
LIANQING_RUN_CHUNK_CADRES = env.int("LIANQING_RUN_CHUNK_CADRES", default=1000)
# Default time to answer a need (有问必答 有求必应).
LIANQING_NEED_DUE_DAYS = env.int("LIANQING_NEED_DUE_DAYS", default=7)
# The public needs form accepts this many submissions a minute from one client address.
LIANQING_ASK_RATE = env.int("LIANQING_ASK_RATE", default=5)
# Behind a proxy that sets the client address in a header, its META name (e.g. HTTP_X_REAL_IP);
# empty: REMOTE_ADDR (a client-controlled X-Forwarded-For must never key the rate limit).
LIANQING_CLIENT_IP_HEADER = env("LIANQING_CLIENT_IP_HEADER", default="")
# The same header for the login lockout: behind the proxy, REMOTE_ADDR is the proxy's address,
# and counting it let anyone lock anyone out. Axes asks config.ratelimit.client_address, the
# rate limiter's function; the ipware order says the same for anything reading it directly.
AXES_CLIENT_IP_CALLABLE = "config.ratelimit.client_address"
AXES_IPWARE_META_PRECEDENCE_ORDER = tuple(
    h for h in (LIANQING_CLIENT_IP_HEADER, "REMOTE_ADDR") if h
)
# Media (photos) are served by config.views.media after a login and scope check; in production
# set this to an nginx `internal` location aliased to MEDIA_ROOT (X-Accel-Redirect).
LIANQING_MEDIA_ACCEL_PREFIX = env("LIANQING_MEDIA_ACCEL_PREFIX", default="")

# --- surveys ---
# Failed voting-code guesses allowed per address in the window (seconds) on /surveys/vote/.
SURVEYS_VOTE_FAILURE_LIMIT = env.int("SURVEYS_VOTE_FAILURE_LIMIT", default=10)
SURVEYS_VOTE_FAILURE_WINDOW = 15 * 60

# --- reminders and mail (assessment/reminders.py) ---
# EMAIL_URL picks the mail backend: empty prints mails on the console (nothing leaves the
# machine); smtp://user:password@host:25, smtp+tls://…:587 or smtp+ssl://…:465 sends them.
_email = {
    k: v
    for k, v in env.email_url("EMAIL_URL", default="consolemail://").items()
    if v not in (None, "")
}
EMAIL_BACKEND = _email.pop("EMAIL_BACKEND")
globals().update(_email)
# A mail server that does not answer must not hold the weekly task until its time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="联青 <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in mails need the site's address (a Celery task has no request to take it from).
LIANQING_SITE_URL = env("LIANQING_SITE_URL", default="http://127.0.0.1:8000")
