"""The web-to-lead rate limit: how many posts one address may make to one form."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from .exceptions import TooManyPosts
from .models import WebToLeadForm, WebToLeadPost


def web_to_lead_rate_limit() -> tuple[int, timedelta]:
    """How many posts one address may make to one form, per how long."""
    return (
        getattr(django_settings, "WEB_TO_LEAD_RATE_LIMIT", 10),
        getattr(django_settings, "WEB_TO_LEAD_RATE_WINDOW", timedelta(minutes=10)),
    )


@transaction.atomic
def record_web_to_lead_post(*, form: WebToLeadForm, ip: str) -> None:
    """Count a post from `ip` to `form`; raise TooManyPosts past the rate limit.

    The count lives in the database, so every server process shares it. The
    form's row is locked while counting, so parallel posts from one address
    cannot all slip under the limit. Refused posts are not counted; rows older
    than the window are pruned here.
    """
    limit, window = web_to_lead_rate_limit()
    since = timezone.now() - window
    WebToLeadForm.objects.select_for_update().filter(pk=form.pk).first()
    WebToLeadPost.objects.filter(created_at__lt=since).delete()
    if WebToLeadPost.objects.filter(form=form, ip=ip, created_at__gte=since).count() >= limit:
        raise TooManyPosts()
    WebToLeadPost.objects.create(form=form, ip=ip)
