"""Who may see and change which record: the one place these rules live.

Roles are Django groups. A Sales Rep reads every lead, account, contact and
opportunity (the group's model "view" permissions) and changes only the
records they own; a Sales Manager (or a superuser) changes everything and
reassigns owners. A record's timeline (notes, activities, stakeholders)
changes only while the record is active, by whoever may change the record; a
note also by its author, an activity also by its owner. Services call the
`ensure_*` functions; views only turn the refusal into a 403 and use the
`can_*` ones to hide buttons.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Value

MANAGER_ROLE = "Sales Manager"


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


@dataclass(frozen=True)
class _Role:
    names: tuple[str, ...]  # the user's groups (roles), by name
    is_manager: bool
    permissions: frozenset[str]  # "app_label.codename", from the groups and the user


def _role(user) -> _Role:
    """The user's roles and model permissions, read in one query and kept on the
    user for the request: the same grants Django's ModelBackend reads in two
    queries (group and user permissions), plus the group names."""
    cached = getattr(user, "_leadline_role", None)
    if cached is None:
        from_groups = (
            Group.objects.filter(user=user)
            .order_by()
            .values_list("name", "permissions__content_type__app_label", "permissions__codename")
        )
        from_user = (
            Permission.objects.filter(user=user)
            .order_by()
            .values_list(Value(""), "content_type__app_label", "codename")
        )
        rows = list(from_groups.union(from_user, all=True))
        names = tuple(sorted({name for name, _, _ in rows if name}))
        cached = _Role(
            names=names,
            is_manager=user.is_superuser or MANAGER_ROLE in names,
            permissions=frozenset(f"{app}.{code}" for _, app, code in rows if code),
        )
        user._leadline_role = cached
    return cached


def role_names(user) -> tuple[str, ...]:
    """The names of the user's roles (groups), as the page header lists them."""
    return _role(user).names if _signed_in(user) else ()


def is_manager(user) -> bool:
    """Managers (and superusers) change every record and reassign owners."""
    return _signed_in(user) and (user.is_superuser or _role(user).is_manager)


def has_model_permission(user, record: Model, action: str) -> bool:
    """Whether the user's role grants `action` ("view", "delete") on records of
    this kind: Django's model permissions, as user.has_perm reads them."""
    if not _signed_in(user):
        return False
    if user.is_superuser:
        return True
    opts = record._meta
    return f"{opts.app_label}.{action}_{opts.model_name}" in _role(user).permissions


def can_view(user, record: Model) -> bool:
    """Whether the user's role lets them see records of this kind."""
    return has_model_permission(user, record, "view")


def ensure_can_view(user, record: Model) -> None:
    if not can_view(user, record):
        raise PermissionDenied(f"You do not have access to this {record._meta.verbose_name}.")


def can_change(user, record: Model) -> bool:
    """A sales rep changes only the records they own; a manager changes everything."""
    if not _signed_in(user):
        return False
    return record.owner_id == user.pk or is_manager(user)


def ensure_can_change(user, record: Model) -> None:
    """Raise PermissionDenied unless `user` may change `record`."""
    if not can_change(user, record):
        raise PermissionDenied(
            f"Only the owner or a sales manager can change this {record._meta.verbose_name}."
        )


def can_delete(user, record: Model) -> bool:
    """Deleting needs the role's delete permission for the kind of record (managers
    delete accounts, contacts and opportunities) and the right to change it."""
    return can_change(user, record) and has_model_permission(user, record, "delete")


def ensure_can_delete(user, record: Model) -> None:
    if not can_delete(user, record):
        raise PermissionDenied(
            f"You may not delete this {record._meta.verbose_name}; ask a sales manager."
        )


def ensure_can_assign(user, owner, current_owner_id: int | None, record_name: str) -> None:
    """Only a manager gives a record to someone other than its current owner
    (for a new record: other than the acting user)."""
    if owner is not None and owner.pk != (current_owner_id or user.pk) and not is_manager(user):
        raise PermissionDenied(f"Only a sales manager can assign {record_name} to someone else.")


def can_add_to(user, record: Model) -> bool:
    """Add notes, activities and stakeholders to a record's timeline."""
    return record.is_active and can_change(user, record)


def can_change_note(user, note, record: Model) -> bool:
    """Edit or delete a note: its author or a manager, while the record is active."""
    return record.is_active and (note.author_id == user.pk or is_manager(user))


def can_change_activity(user, activity, record: Model) -> bool:
    """Edit, complete, cancel or delete an activity: its owner, or whoever may
    change the record, while the record is active."""
    return record.is_active and (activity.owner_id == user.pk or can_change(user, record))
