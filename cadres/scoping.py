"""Organisation scoping: the one module that decides which rows a user may see.

Scoping rule (MISSION.md, "Personal data is minimal and guarded"):
- a superuser sees everything;
- staff and admins see their organisation's subtree (one indexed prefix query on the path);
- a cadre sees their own work: the rows the model's *cadre rule* ties to their cadre record
  (a lookup such as "cadre", or a function of the cadre for rules that are not one lookup),
  nothing of other cadres;
- anybody else (no organisation, anonymous, inactive) sees nothing.

Every list, detail lookup, export, dashboard, form choice and admin page goes through
`scope_queryset` (or a helper built on it); a page that narrows an already scoped list to a chosen
organisation does it with `in_subtree`. This is the only module that writes a path-prefix filter:
`tests/cadres/test_scoping_home.py` reads the source tree and fails on any other.
`cadres.selectors` re-exports these names, so callers keep importing them from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, Model, Q, QuerySet
from django.http import Http404

from .models import Cadre, Organisation, User

M = TypeVar("M", bound=Model)

# What a cadre user sees of a model: the lookup from the model to the owning Cadre ("cadre",
# "owner_cadre", "pk" for Cadre itself), or a function of the cadre returning the condition, for
# rules that are not one lookup (activities: responsible for it, or organised by their own
# organisation). None: a cadre user sees nothing of the model.
CadreRule = str | Callable[[Cadre], Q] | None


def user_cadre(user: User) -> Cadre | None:
    """The cadre record linked to a login, or None (staff without one, admins)."""
    if not user.is_authenticated:
        return None
    try:
        return user.cadre
    except Cadre.DoesNotExist:
        return None


def in_subtree(
    qs: QuerySet[M], *, organisation: Organisation, org_field: str = "organisation"
) -> QuerySet[M]:
    """Narrow `qs` to the rows of `organisation` and everything below it.

    org_field: the lookup from the model to its Organisation ("" for Organisation itself).
    This grants nothing: pass a queryset already scoped for the user (`scope_queryset`), or one
    whose organisation the caller has resolved in scope. One indexed prefix query on the path.
    """
    lookup = f"{org_field}__path__startswith" if org_field else "path__startswith"
    return qs.filter(**{lookup: organisation.path})


def organisation_subtree(*, organisation: Organisation) -> QuerySet[Organisation]:
    """An organisation and everything below it: one indexed prefix query."""
    return in_subtree(Organisation.objects.all(), organisation=organisation, org_field="")


def _cadre_rows(qs: QuerySet[M], *, cadre: Cadre, cadre_field: CadreRule) -> QuerySet[M]:
    """The one branch that decides what a cadre user sees of a model (see `CadreRule`)."""
    if cadre_field is None:
        return qs.none()
    if callable(cadre_field):
        return qs.filter(cadre_field(cadre))
    return qs.filter(**{cadre_field: cadre.pk})


def scope_queryset(
    qs: QuerySet[M],
    *,
    user: User,
    org_field: str | None = "organisation",
    cadre_field: CadreRule = None,
) -> QuerySet[M]:
    """Restrict `qs` to what `user` may see.

    org_field: the lookup from the model to its Organisation ("" for Organisation itself,
        None when the model has no organisation and only cadre ownership applies).
    cadre_field: the model's cadre rule (`CadreRule`); without it, a cadre user sees nothing.
    """
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser:
        return qs
    if user.sees_subtree:
        if org_field is None or user.organisation is None:  # no query when the user has none
            return qs.none()
        return in_subtree(qs, organisation=user.organisation, org_field=org_field)
    cadre = user_cadre(user)
    if cadre is None:
        return qs.none()
    return _cadre_rows(qs, cadre=cadre, cadre_field=cadre_field)


def get_in_scope_or_404(
    qs: QuerySet[M],
    *,
    user: User,
    pk: object,
    org_field: str | None = "organisation",
    cadre_field: CadreRule = None,
) -> M:
    """The object with this pk if the user may see it; otherwise 404, never 403.

    A 403 would confirm that the object exists in another subtree.
    """
    try:
        return scope_queryset(qs, user=user, org_field=org_field, cadre_field=cadre_field).get(
            pk=pk
        )
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None


def user_subtree_q(*, org_field: str, user_field: str) -> Q:
    """For set-based reads over many users at once (the reminders' daily pass): the condition
    that a row's organisation lies in the subtree of the organisation of the user the same row
    names through `user_field` ("owner_user", "case__opened_by"). A user without an organisation
    matches nothing. Like `in_subtree`, it grants nothing by itself: the caller keeps to users
    who supervise a subtree (staff, admins)."""
    return Q(**{f"{org_field}__path__startswith": F(f"{user_field}__organisation__path")})


def seen_by_q(*, paths: Iterable[str], cadre_ids: Iterable[int], user_field: str = "user") -> Q:
    """The reverse of `scope_queryset`, for rows that name a user (`user_field`): the users who
    may see something of an organisation with one of these `paths`, or of one of these cadres —
    superusers, staff and admins at that organisation or above it, the cadres themselves.
    (Export jobs of an erased youth, cadres.privacy.) One query, however many paths."""
    condition = Q(**{f"{user_field}__is_superuser": True})
    condition |= Q(**{f"{user_field}__cadre__in": list(cadre_ids)})
    prefixes: set[str] = set()
    for path in paths:
        # "0000001.0000004." -> "0000001.", "0000001.0000004.": the organisation and above.
        segments = path.split(".")[:-1]
        prefixes |= {".".join(segments[: n + 1]) + "." for n in range(len(segments))}
    condition |= Q(
        **{
            f"{user_field}__role__in": [User.Role.STAFF, User.Role.ADMIN],
            f"{user_field}__organisation__path__in": sorted(prefixes),
        }
    )
    return condition
