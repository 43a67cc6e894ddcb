"""The records a change points at must exist and be active when it commits.

A form offers only active accounts, contacts, users and currencies, but a
crafted post, an API call or a record deactivated or deleted a moment ago
can still name another. Every service that takes a reference reads it again
here, inside its transaction, and refuses with ReferenceUnavailable, keyed by
the field so that forms show it there. Accounts and contacts are locked until
the change commits, so a deletion or deactivation running at the same moment
waits for it (or it waits for them, then sees the record gone): never an
IntegrityError at commit.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model

M = TypeVar("M", bound=Model)


class ReferenceUnavailable(ValidationError):
    """A record the change refers to is inactive or no longer exists."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__({field: message})
        self.field = field
        self.text = message


def current_reference(
    value: M | int | str | None,
    *,
    model: type[M],
    field: str,
    what: str | None = None,
    lock: bool = True,
) -> M | None:
    """The record `value` (an instance or a primary key) refers to, as it is now
    in the database; None for no reference. Raises ReferenceUnavailable when it
    is gone or inactive. With `lock`, the row stays locked (FOR NO KEY UPDATE on
    PostgreSQL; SQLite's write lock covers the whole file) until the commit."""
    if value is None or value == "":
        return None
    what = what or str(model._meta.verbose_name)
    pk = value.pk if isinstance(value, Model) else value
    rows = model._default_manager.filter(pk=pk)
    if lock:
        rows = rows.select_for_update(no_key=True, of=("self",))
    try:
        current = rows.get()
    except (model.DoesNotExist, ValueError, TypeError):
        raise ReferenceUnavailable(
            field, f"The {what} you chose no longer exists; choose another."
        ) from None
    if not getattr(current, "is_active", True):
        raise ReferenceUnavailable(
            field, f"The {what} “{current}” is inactive; choose an active {what}."
        )
    return current


def check_references(
    model: type[Model],
    fields: dict,
    *,
    current: Model | None = None,
    lock: tuple[type[Model], ...] = (),
) -> None:
    """Replace each foreign key value in `fields` (a create's or an edit's field
    values for `model`) by its current row: ReferenceUnavailable when one is gone
    or inactive. For an edit (`current`), a reference the record already has is
    kept as it is: deactivating an account does not freeze its leads. Rows of
    the `lock` models stay locked until the commit."""
    for name, value in list(fields.items()):
        field = model._meta.get_field(name)
        if value is None or not (field.many_to_one or field.one_to_one):
            continue
        if current is not None and getattr(value, "pk", value) == getattr(current, field.attname):
            continue
        related = field.related_model
        fields[name] = current_reference(
            value,
            model=related,
            field=name,
            what=str(related._meta.verbose_name),
            lock=related in lock,
        )
