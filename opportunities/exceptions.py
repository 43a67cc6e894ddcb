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
