"""Rate limits for the public pages (needs form, voting, activity sign-up and check-in).

One counter per (scope, client address) in the cache — Redis in production, so every web process
shares it. Keys hold a keyed hash of the address, never the address itself, and nothing else.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address. REMOTE_ADDR unless LIANQING_CLIENT_IP_HEADER names the header a
    trusted proxy sets (e.g. HTTP_X_REAL_IP): X-Forwarded-For as sent by a client is forgeable."""
    header = getattr(settings, "LIANQING_CLIENT_IP_HEADER", "")
    return (request.META.get(header) if header else None) or request.META.get("REMOTE_ADDR", "")


def _key(request: HttpRequest, scope: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}|{client_address(request)}".encode())
    return f"ratelimit:{scope}:{digest.hexdigest()[:24]}"


def is_limited(request: HttpRequest, scope: str, *, limit: int) -> bool:
    """True when this address has already used up `limit` hits of `scope` in the window."""
    return (cache.get(_key(request, scope)) or 0) >= limit


def count(request: HttpRequest, scope: str, *, window: int) -> int:
    """Count one hit; the window (seconds) starts at the first hit. Returns the count so far."""
    key = _key(request, scope)
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return 1


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
