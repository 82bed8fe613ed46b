"""Commands act as a named person, with that person's rights (`--user USERNAME`)."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from workflow.roles import has_role


def acting_user(username: str | None, *roles: str):
    if not username:
        raise CommandError("--user USERNAME is required: commands act with a person's rights")
    try:
        user = get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"no user named {username!r}") from None
    if not user.is_active:
        raise CommandError(f"user {username!r} is not active")
    if roles and not has_role(user, *roles):
        raise CommandError(f"{username} may not do this: it needs the {' or '.join(roles)} role")
    return user
