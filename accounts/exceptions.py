"""Why the account and contact services refused a request. (Invalid field values
are Django's ValidationError; a user who may not act, PermissionDenied.)"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class IsACustomer(ValidationError):
    """An account or contact that opportunities name as their customer cannot be
    deleted: the opportunities would lose their customer."""

    def __init__(self, record, count: int) -> None:
        super().__init__(
            f"{record} is the customer of {count} opportunit{'y' if count == 1 else 'ies'}; "
            "delete them or give them another customer first."
        )
        self.record, self.count = record, count
