"""Why the opportunity services refused a request."""

from __future__ import annotations

from collections.abc import Sequence


class OpportunityError(Exception):
    """Base of every refusal of the opportunity services: a closed opportunity
    changed, a stage move past either end, a close without a valid reason."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class RequiredStepsMissing(OpportunityError):
    """Next stage refused: required steps of the current stage are empty. `steps`
    holds their names. (Previous stage is never refused for this.)"""

    def __init__(self, steps: Sequence[str]):
        self.steps = list(steps)
        super().__init__(
            "These required steps are not filled in yet: " + ", ".join(self.steps) + "."
        )


class OpportunityClosed(OpportunityError):
    """A change to a won or lost opportunity: it is read-only until reopened."""


class OpportunityNotClosed(OpportunityError):
    """Reopen refused: the opportunity is open already."""


class NoSuchStage(OpportunityError):
    """A move past the first or last stage, to a stage of another flow, or to a
    flow with no opportunity stages."""


class StatusReasonNotAllowed(OpportunityError):
    """A close with a status reason of the other outcome (Out-Sold for Won)."""
