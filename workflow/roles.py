"""Roles are Django groups. Who does each stage's work, and who approves."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models


class Role(models.TextChoices):
    TECHNICIAN = "technician", "technician"
    RESTORER = "restorer", "restorer"
    COLORIST = "colorist", "colorist"
    SOUND = "sound", "sound engineer"
    SUPERVISOR = "supervisor", "supervisor"
    ARCHIVIST = "archivist", "archivist"


def roles_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The role names a user holds (cached on the user object for the request)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_reelkeeper_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(names & set(Role.values))
        user._reelkeeper_roles = cached
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_staff_member(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Anyone holding at least one role may look at the archive's pages."""
    return bool(roles_of(user))
