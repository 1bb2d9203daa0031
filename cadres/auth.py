"""Authentication: demo accounts only where demos are allowed."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


def demo_logins_allowed() -> bool:
    return bool(settings.DEBUG or settings.LIANQING_DEMO)


class DemoAwareModelBackend(ModelBackend):
    """Django's backend, refusing seed_demo's accounts on a real installation.

    A demo password is printed in the README; if demo data ever reaches a production database,
    those accounts must not open it.
    """

    def user_can_authenticate(self, user) -> bool:
        if getattr(user, "is_demo", False) and not demo_logins_allowed():
            return False
        return super().user_can_authenticate(user)
