"""Why the account and contact services refused a request. (Invalid field values
are Django's ValidationError; a user who may not act, PermissionDenied.)"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class IsACustomer(ValidationError):
    """An account or contact that opportunities link (as their account or their
    contact) cannot be deleted: the opportunities would lose it."""

    def __init__(self, record, count: int) -> None:
        what = record._meta.verbose_name
        super().__init__(
            f"{record} is the {what} of {count} opportunit{'y' if count == 1 else 'ies'}; "
            f"delete them or link them to another {what} first."
        )
        self.record, self.count = record, count
