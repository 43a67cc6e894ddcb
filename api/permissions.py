"""What a token may do: a read-only token reads, and nothing else."""

from rest_framework import permissions

from .models import ApiToken


class TokenScope(permissions.BasePermission):
    message = "This token is read-only: create a read-write token to change records."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if isinstance(token, ApiToken) and token.read_only:
            return request.method in permissions.SAFE_METHODS
        return True
