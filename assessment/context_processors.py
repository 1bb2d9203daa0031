"""The bell in the page header: the user's unread reminders, counted once per request and only
when a template shows it (a lazy object; anonymous pages never query)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from cadres.models import User

from .selectors import notification_unread_count


@dataclass(frozen=True)
class Bell:
    count: int

    @property
    def label(self) -> str:
        return "99+" if self.count > 99 else str(self.count)


def _bell(request: HttpRequest) -> Bell:
    cached = getattr(request, "_lq_bell", None)
    if cached is None:
        user = request.user
        count = notification_unread_count(user=user) if isinstance(user, User) else 0
        cached = Bell(count)
        request._lq_bell = cached  # type: ignore[attr-defined]
    return cached


def notifications(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"bell": SimpleLazyObject(lambda: _bell(request))}
