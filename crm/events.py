"""What a service announces when it has changed something people should hear
about: one function per kind of event, feeding the in-app notifications (the
bell) and, for users who asked for them, emails sent by a job after commit.

Services call these inside their transaction: the notification is written
with the change (never for a change that rolled back, never lost after one
that committed) and the email job is sent once the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from . import jobs
from .models import Notification, NotificationSettings

# What else hears of the events services publish (the API's webhooks register
# here, from a layer above: the core knows none of them).
LISTENERS: list[Callable[[str, Any], None]] = []


def publish(event_type: str, record) -> None:
    """`record` changed as `event_type` ("lead.qualified"): called by the service
    inside its transaction, so what listeners write (webhook deliveries and
    their jobs) exists only if the change commits, and is sent after."""
    for listener in LISTENERS:
        listener(event_type, record)


def notify(user, kind: str, text: str, url: str = "") -> Notification | None:
    """Tell `user` `text` (linking to `url`); email it too when they chose to.
    Nobody is told about an inactive account."""
    if user is None or not user.is_active:
        return None
    notification = Notification.objects.create(user=user, kind=kind, text=text[:300], url=url)
    if user.email and kind in email_kinds(user):
        jobs.start(
            "crm.email_notification",
            label=f"Email to {user.get_username()}: {text}",
            notification=notification.pk,
        )
    return notification


def email_kinds(user) -> list[str]:
    found = NotificationSettings.objects.filter(user=user).values_list("email_kinds", flat=True)
    return next(iter(found), [])


def record_assigned(*, record, owner, by, what: str) -> None:
    """`owner` now owns `record` (a lead or an opportunity; `what` names it),
    given by `by` (a user, or None for routing and web-to-lead). Not said to
    someone who gave it to themselves."""
    if owner is None or (by is not None and owner.pk == by.pk):
        return
    if by is None:
        text = f"The {what} “{record}” was routed to you."
    else:
        text = f"{_name(by)} assigned you the {what} “{record}”."
    notify(owner, Notification.Kind.ASSIGNED, text, record.get_absolute_url())


def records_assigned(*, owner, count: int, what: str, source: str, url: str) -> None:
    """`count` records (`what`, plural) from `source` (an import) were given to
    `owner`: one notification for them all."""
    if count:
        notify(
            owner,
            Notification.Kind.ASSIGNED,
            f"{count:,} {what} from {source} were assigned to you.",
            url,
        )


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def email_notification(notification_id: int) -> None:
    """Email one notification, once (the job "crm.email_notification"): a run
    after the email was recorded as sent does nothing; a run killed between
    sending and recording sends it again (at least once, never lost)."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("user")
            .filter(pk=notification_id, emailed_at=None)
            .first()
        )
        if notification is None or not notification.user.email:
            return
        link = f"\n\n{absolute_url(notification.url)}" if notification.url else ""
        send_mail(
            subject=notification.text[:150],
            message=f"{notification.text}{link}\n\n— Leadline",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.user.email],
        )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])


def absolute_url(path: str) -> str:
    """`path` on the site's address (LEADLINE_BASE_URL, e.g. https://crm.example.com)."""
    return getattr(settings, "LEADLINE_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + path


# --- The reader's side: the bell and the notifications page -------------------------------


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at=None).count()


def mark_read(*, user, notification_id: int | None = None) -> Notification | None:
    """Mark one of `user`'s notifications read (returned; None when there is no
    such notification, PermissionDenied when it is someone else's), or all of
    them when no id is given."""
    mine = Notification.objects.filter(user=user)
    if notification_id is None:
        mine.filter(read_at=None).update(read_at=timezone.now())
        return None
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return None
    if notification.user_id != user.pk:
        raise PermissionDenied("This notification is someone else's.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def set_email_kinds(*, user, kinds: list[str]) -> NotificationSettings:
    """Which kinds of notification `user` also gets by email (unknown kinds are
    refused with ValidationError)."""
    unknown = set(kinds) - set(Notification.Kind.values)
    if unknown:
        raise ValidationError(f"Unknown kinds of notification: {', '.join(sorted(unknown))}.")
    found, _ = NotificationSettings.objects.select_for_update().get_or_create(user=user)
    found.email_kinds = [k for k in Notification.Kind.values if k in kinds]
    found.save(update_fields=["email_kinds"])
    return found
