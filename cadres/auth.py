"""Authentication and access: demo accounts only where demos are allowed, staff-only pages.

Every app's views import `staff_required` from here (not from another app's views), so that a
view module depends only on the shared access rules, never on its sibling pages.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest


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

    def get_user(self, user_id):
        """The session's user with their organisation in the same query: every page reads it
        (navigation, scoping), which was a second query on each request."""
        UserModel = get_user_model()
        try:
            user = UserModel._default_manager.select_related("organisation").get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def staff_required(view):
    """Pages for supervising staff. A cadre gets 404, as for anything outside their scope."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.sees_subtree:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
