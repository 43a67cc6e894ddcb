"""Creating and revoking API tokens."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .models import ApiToken, hash_key


@transaction.atomic
def create_token(
    *, user: AbstractBaseUser, name: str, read_only: bool, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token of `user`'s and its key, which is never stored nor shown again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, to know later what uses it."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry date must be in the future."})
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        key_hash=hash_key(key),
        key_start=key[:10],
        read_only=read_only,
        expires_at=expires_at,
    )
    return token, key


@transaction.atomic
def revoke_token(*, token: ApiToken, user: AbstractBaseUser) -> ApiToken:
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.user_id != user.pk:
        raise PermissionDenied("This token is someone else's.")
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
    return locked
