"""Reads of the cadres app, and the one scoping selector the whole project uses.

Scoping rule (MISSION.md, "Personal data is minimal and guarded"):
- a superuser sees everything;
- staff and admins see their organisation's subtree (one indexed prefix query on the path);
- a cadre sees their own work: rows tied to their cadre record, nothing of other cadres;
- anybody else (no organisation, anonymous) sees nothing.
Every list, detail lookup, export, dashboard, form choice and admin page goes through
`scope_queryset` or a helper built on it; views never filter by organisation themselves.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from .models import Cadre, Organisation, User

M = TypeVar("M", bound=Model)


def user_cadre(user: User) -> Cadre | None:
    """The cadre record linked to a login, or None (staff without one, admins)."""
    if not user.is_authenticated:
        return None
    try:
        return user.cadre
    except Cadre.DoesNotExist:
        return None


def scope_queryset(
    qs: QuerySet[M],
    *,
    user: User,
    org_field: str | None = "organisation",
    cadre_field: str | None = None,
) -> QuerySet[M]:
    """Restrict `qs` to what `user` may see.

    org_field: the lookup from the model to its Organisation ("" for Organisation itself,
        None when the model has no organisation and only cadre ownership applies).
    cadre_field: the lookup from the model to the owning Cadre; a cadre user sees the rows
        where it is them. Without it, a cadre user sees nothing of the model.
    """
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser:
        return qs
    if user.sees_subtree:
        if user.organisation_id is None or org_field is None:
            return qs.none()
        path_lookup = f"{org_field}__path__startswith" if org_field else "path__startswith"
        return qs.filter(**{path_lookup: user.organisation.path})
    cadre = user_cadre(user)
    if cadre is None or cadre_field is None:
        return qs.none()
    return qs.filter(**{cadre_field: cadre.pk})


def get_in_scope_or_404(
    qs: QuerySet[M],
    *,
    user: User,
    pk: object,
    org_field: str | None = "organisation",
    cadre_field: str | None = None,
) -> M:
    """The object with this pk if the user may see it; otherwise 404, never 403.

    A 403 would confirm that the object exists in another subtree.
    """
    try:
        return scope_queryset(qs, user=user, org_field=org_field, cadre_field=cadre_field).get(
            pk=pk
        )
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def organisation_list(*, user: User) -> QuerySet[Organisation]:
    """Organisations the user may see, in tree order."""
    return scope_queryset(Organisation.objects.all(), user=user, org_field="").order_by("path")


def organisation_subtree(*, organisation: Organisation) -> QuerySet[Organisation]:
    """An organisation and everything below it: one indexed prefix query."""
    return Organisation.objects.filter(path__startswith=organisation.path)


def user_list(*, user: User) -> QuerySet[User]:
    return scope_queryset(User.objects.select_related("organisation"), user=user)


def cadre_list(*, user: User) -> QuerySet[Cadre]:
    """Cadres in scope; a cadre user sees only themself."""
    return scope_queryset(Cadre.objects.select_related("organisation"), user=user, cadre_field="pk")
