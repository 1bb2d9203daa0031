"""Rate limits for the public pages (needs form, voting, activity sign-up and check-in).

One counter per (scope, client address) in the cache — Redis in production, so every web process
shares it. Keys hold a keyed hash of the address, never the address itself, and nothing else.

When the cache is unreachable (Redis down) the counters fall back to this process's memory: the
limit then holds per web process instead of per deployment, which is looser but still a limit,
and the public pages keep working instead of answering 500 and losing a youth's text.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest

logger = logging.getLogger(__name__)

# Process-local counters while the shared cache is down; a warning at most once a minute.
_local = LocMemCache("lianqing-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
_last_warning = [0.0]


def client_address(request: HttpRequest) -> str:
    """The client's address. REMOTE_ADDR unless LIANQING_CLIENT_IP_HEADER names the header a
    trusted proxy sets (e.g. HTTP_X_REAL_IP): X-Forwarded-For as sent by a client is forgeable.
    The same setting feeds django-axes (AXES_IPWARE_META_PRECEDENCE_ORDER in settings)."""
    header = getattr(settings, "LIANQING_CLIENT_IP_HEADER", "")
    return (request.META.get(header) if header else None) or request.META.get("REMOTE_ADDR", "")


def _key(request: HttpRequest | None, scope: str) -> str:
    # request None: one counter for the scope whatever the address (e.g. per confirmation link,
    # so that guessing its four digits from many addresses is bounded too).
    subject = client_address(request) if request is not None else "*"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}|{subject}".encode())
    return f"ratelimit:{scope}:{digest.hexdigest()[:24]}"


def _fallback(exc: Exception):
    now = time.monotonic()
    if now - _last_warning[0] > 60:
        _last_warning[0] = now
        logger.warning(
            "ratelimit: shared cache unreachable (%s); counting in this process only",
            type(exc).__name__,
        )
    return _local


def _cache_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError, OSError]
    try:
        import redis

        errors.append(redis.exceptions.RedisError)
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    return tuple(errors)


CACHE_ERRORS = _cache_errors()


def is_limited(request: HttpRequest | None, scope: str, *, limit: int) -> bool:
    """True when this address has already used up `limit` hits of `scope` in the window."""
    key = _key(request, scope)
    try:
        value = cache.get(key)
    except CACHE_ERRORS as exc:
        value = _fallback(exc).get(key)
    return (value or 0) >= limit


def _count_in(store, key: str, window: int) -> int:
    if store.add(key, 1, timeout=window):
        return 1
    try:
        return store.incr(key)
    except ValueError:  # expired between add and incr
        store.add(key, 1, timeout=window)
        return 1


def count(request: HttpRequest | None, scope: str, *, window: int) -> int:
    """Count one hit; the window (seconds) starts at the first hit. Returns the count so far."""
    key = _key(request, scope)
    try:
        return _count_in(cache, key, window)
    except CACHE_ERRORS as exc:
        return _count_in(_fallback(exc), key, window)


def hit(request: HttpRequest, scope: str, *, limit: int, window: int) -> bool:
    """Count a hit and say whether it is over the limit (the caller refuses it with a 429)."""
    return count(request, scope, window=window) > limit


def release(request: HttpRequest, scope: str) -> None:
    """Give back one hit counted by `hit` (the hit turned out not to be the thing limited, e.g.
    a real voting code). Never below zero; a window that expired meanwhile stays expired."""
    key = _key(request, scope)
    try:
        if cache.decr(key) < 0:
            cache.incr(key)
    except ValueError:  # no counter any more
        pass
