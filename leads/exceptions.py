"""Why the lead lifecycle refused a request. Views catch LeadError in one place
and show its message; Django's PermissionDenied is raised where the user may not act."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from opportunities import exceptions as opportunity_exceptions

if TYPE_CHECKING:
    from accounts.models import Account, Contact


class LeadError(Exception):
    """Base of every refusal of the lead lifecycle services."""

    default_message = "The lead could not be changed."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class LeadNotOpen(LeadError):
    default_message = "Only an open lead can be changed; this lead is inactive."


class LeadChanged(LeadError):
    default_message = (
        "Someone else changed this lead after you opened it; nothing was saved. "
        "Reload the lead to see their changes, then make yours again."
    )


class LeadNotInactive(LeadError):
    default_message = "Only a qualified or disqualified lead can be reactivated."


class DuplicatesFound(LeadError):
    default_message = "Possible duplicate records were found."

    def __init__(
        self,
        message: str | None = None,
        *,
        accounts: Sequence[Account] = (),
        contacts: Sequence[Contact] = (),
    ):
        self.accounts = list(accounts)
        self.contacts = list(contacts)
        if message is None:
            parts = []
            if self.accounts:
                parts.append(f"{len(self.accounts)} matching account(s)")
            if self.contacts:
                parts.append(f"{len(self.contacts)} matching contact(s)")
            message = "Possible duplicates: " + " and ".join(parts) + "."
        super().__init__(message)


class QualifyOptionsRequired(LeadError):
    default_message = (
        "Say whether to create an account, a contact and an opportunity when qualifying."
    )


class InvalidReason(LeadError):
    default_message = (
        "Choose a disqualify reason: Lost, Cannot Contact, No Longer Interested or Canceled."
    )


class NothingToLinkOpportunityTo(LeadError):
    default_message = (
        "An opportunity needs a customer: give the lead a company or a person's name, "
        "or choose an existing account or contact."
    )


class RequiredStepsMissing(LeadError, opportunity_exceptions.RequiredStepsMissing):
    """Qualify (the lead's Next stage) refused: required steps of the lead's stage
    are empty. `steps` holds their names. Also an
    `opportunities.exceptions.RequiredStepsMissing`: one process from lead to
    opportunity, so catching that catches a gated stage anywhere on it."""

    def __init__(self, steps: Sequence[str]):
        opportunity_exceptions.RequiredStepsMissing.__init__(self, steps)


class CurrencyRequired(LeadError):
    default_message = "An opportunity needs a currency: choose one or set the default currency."


def error_message(exc: Exception) -> str:
    """The text to show a user for a refusal: a LeadError, a ValidationError or PermissionDenied."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return getattr(exc, "message", None) or str(exc) or exc.__class__.__name__


class NoLeadOwner(LeadError):
    default_message = (
        "Nobody to give this lead to: no routing rule matched and the organisation has "
        "no active default lead owner."
    )


class TooManyPosts(LeadError):
    default_message = "Too many submissions from your address; try again in a few minutes."
