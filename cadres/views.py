from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config import panels

from .models import Organisation
from .selectors import get_in_scope_or_404, organisation_list, user_list


def staff_required(view):
    """Pages for supervising staff. A cadre gets 404, as for anything outside their scope."""
    from functools import wraps

    from django.http import Http404

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.sees_subtree:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = "staff" if request.user.sees_subtree else "cadre"
    if (
        role == "cadre"
        and request.user.organisation_id is None
        and not hasattr(request.user, "cadre")
    ):
        raise PermissionDenied
    return render(request, f"home_{role}.html", {"panels": panels.collect(role, request)})


@staff_required
def organisation_index(request: HttpRequest) -> HttpResponse:
    organisations = organisation_list(user=request.user).annotate(
        n_children=Count("children", distinct=True)
    )
    return render(request, "cadres/organisation_list.html", {"organisations": organisations})


@staff_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_in_scope_or_404(
        Organisation.objects.select_related("parent"), user=request.user, pk=pk, org_field=""
    )
    children = organisation.children.order_by("path")
    users = user_list(user=request.user).filter(organisation=organisation).order_by("username")
    return render(
        request,
        "cadres/organisation_detail.html",
        {
            "organisation": organisation,
            "children": children,
            "users": users,
            "n_cadres": organisation.cadres.count(),
        },
    )
