"""Model fields the apps share."""

from __future__ import annotations

from django.db import models


class WebAddressField(models.URLField):
    """A URL field whose forms read an address typed without a scheme
    ("contoso.com") as https://, Django 6's default, chosen explicitly now."""

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})
