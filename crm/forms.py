"""Forms of the project itself (not of one app)."""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class LoginForm(AuthenticationForm):
    """Django's login form, with the username's length checked.

    AuthenticationForm sets the field's max_length after the field is built, so
    no validator enforces it; an over-long name would reach authentication and
    the login-throttling log (a 255-character column) and fail there.
    """

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))
