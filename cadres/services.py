"""Writes of the cadres app: the organisation tree and users."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils.translation import gettext as _

from .models import PATH_SEGMENT_WIDTH, PATH_SEPARATOR, Organisation, User


def _segment(pk: int) -> str:
    return f"{pk:0{PATH_SEGMENT_WIDTH}d}{PATH_SEPARATOR}"


@transaction.atomic
def organisation_create(
    *, name: str, kind: str, parent: Organisation | None = None, is_active: bool = True
) -> Organisation:
    """Create an organisation and give it its materialised path.

    1. insert with a placeholder path unique to this transaction (the pk is not known yet);
    2. set path = parent's path + own zero-padded pk.
    """
    import uuid

    org = Organisation.objects.create(
        name=name,
        kind=kind,
        parent=parent,
        is_active=is_active,
        path=f"~{uuid.uuid4().hex}",
        depth=(parent.depth + 1) if parent else 0,
    )
    org.path = (parent.path if parent else "") + _segment(org.pk)
    Organisation.objects.filter(pk=org.pk).update(path=org.path)
    return org


@transaction.atomic
def organisation_update(
    *,
    organisation: Organisation,
    name: str,
    kind: str,
    parent: Organisation | None,
    is_active: bool,
) -> Organisation:
    """Edit an organisation; moving it under another parent re-roots its whole subtree.

    The move is two set-based UPDATEs (path prefix replaced, depth shifted) whatever the size of
    the subtree, under a row lock so that two concurrent moves cannot interleave.
    """
    org = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if parent is not None:
        parent = Organisation.objects.select_for_update().get(pk=parent.pk)
        if parent.path.startswith(org.path):
            raise ValidationError({"parent": _("不能把组织移到它自己或它的下级组织之下。")})
    org.name, org.kind, org.is_active = name, kind, is_active
    if (parent.pk if parent else None) != org.parent_id:
        old_path = org.path
        new_path = (parent.path if parent else "") + _segment(org.pk)
        depth_shift = ((parent.depth + 1) if parent else 0) - org.depth
        Organisation.objects.filter(path__startswith=old_path).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1, Length("path"))),
            depth=F("depth") + depth_shift,
        )
        org.parent = parent
        org.path, org.depth = new_path, org.depth + depth_shift
    org.save(update_fields=["name", "kind", "is_active", "parent"])
    return org


def user_create(
    *,
    username: str,
    password: str | None,
    organisation: Organisation | None,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    is_superuser: bool = False,
    is_demo: bool = False,
) -> User:
    """Create a login. Admins (and only admins) get access to Django admin."""
    user = User(
        username=username,
        organisation=organisation,
        role=role,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_superuser=is_superuser,
        is_demo=is_demo,
        is_staff=is_superuser or role == User.Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user
