"""Why the opportunity services refused a request."""

from __future__ import annotations


class OpportunityError(Exception):
    """Base of every refusal of the opportunity services: a closed opportunity
    changed, a stage move past either end, a close without a valid reason."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)
