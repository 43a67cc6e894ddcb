"""Webhooks: the events services publish (crm.events.publish), sent to the
endpoints admins register, signed as Standard Webhooks says (`webhook-id`,
`webhook-timestamp`, `webhook-signature`, with the `standardwebhooks` library).

A delivery row and its job are written in the service's transaction: a change
that rolls back sends nothing, and nothing is sent before the commit. The job
(`api.deliver_webhook`) posts the payload; a non-2xx answer or no answer is
tried again with exponential back-off (WEBHOOK_BACKOFF_SECONDS, doubled each
time, WEBHOOK_MAX_ATTEMPTS tries); each try is logged on the delivery. A
record's events reach an endpoint in order: a delivery waits while an earlier
one of the same record is still pending. An endpoint whose deliveries are given
up WEBHOOK_DISABLE_AFTER times in a row is switched off and admins are told.
Delivery is at least once: receivers dedupe on `webhook-id`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from crm import events, jobs
from crm.models import Notification

from .models import WebhookDelivery, WebhookEndpoint

WEBHOOK_MAX_ATTEMPTS = 8
WEBHOOK_BACKOFF_SECONDS = 10
WEBHOOK_DISABLE_AFTER = 5
WEBHOOK_TIMEOUT_SECONDS = 10
# Waiting for an earlier delivery of the same record: ask again this soon.
WAIT_SECONDS = 5


def _setting(name: str, default):
    return getattr(settings, name, default)


def payload_of(event_type: str, record) -> dict:
    from .serializers import serialized

    return {
        "type": event_type,
        "timestamp": timezone.now().isoformat(),
        "data": serialized(record),
    }


# The active endpoints, cached per process (a service publishes an event on every
# change; most installations have no endpoint). A change to an endpoint clears this
# process's copy at once and the others' within WEBHOOK_ENDPOINTS_CACHE_SECONDS.
CACHE_KEY = "api.webhooks.active_endpoints"


def active_endpoints() -> list[tuple[int, list[str]]]:
    found = cache.get(CACHE_KEY)
    if found is None:
        found = list(WebhookEndpoint.objects.filter(is_active=True).values_list("pk", "events"))
        cache.set(CACHE_KEY, found, _setting("WEBHOOK_ENDPOINTS_CACHE_SECONDS", 30))
    return found


def forget_endpoints(**kwargs) -> None:
    cache.delete(CACHE_KEY)


def on_event(event_type: str, record) -> None:
    """crm.events' listener: a delivery (and its job) per endpoint that wants it."""
    wanting = [pk for pk, wanted in active_endpoints() if not wanted or event_type in wanted]
    if not wanting:
        return
    payload = payload_of(event_type, record)
    record_key = f"{record._meta.model_name}:{record.pk}"
    for endpoint_id in wanting:
        delivery = WebhookDelivery.objects.create(
            endpoint_id=endpoint_id,
            message_id=f"msg_{uuid.uuid4().hex}",
            event_type=event_type,
            record_key=record_key,
            payload=payload,
        )
        _send(delivery)


def deliver(delivery_id: int) -> str:
    """One try of a delivery (the job "api.deliver_webhook")."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return "nothing to do"
    if not delivery.endpoint.is_active:
        return "endpoint off"
    earlier = WebhookDelivery.objects.filter(
        endpoint=delivery.endpoint_id,
        record_key=delivery.record_key,
        status=WebhookDelivery.Status.PENDING,
        pk__lt=delivery.pk,
    )
    if earlier.exists():
        _again(delivery, seconds=WAIT_SECONDS)
        return "waiting"
    status, excerpt, took = _post(delivery)
    return _record(delivery, status, excerpt, took)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, int]:
    body = json.dumps(delivery.payload, separators=(",", ":"))
    now = timezone.now()
    signature = Webhook(delivery.endpoint.secret).sign(delivery.message_id, now, body)
    request = urllib.request.Request(
        delivery.endpoint.url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Leadline-Webhooks/1",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        },
    )
    began = time.monotonic()
    timeout = _setting("WEBHOOK_TIMEOUT_SECONDS", WEBHOOK_TIMEOUT_SECONDS)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - admins' URL
            return answer.status, answer.read(500).decode(errors="replace"), _ms(began)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(500).decode(errors="replace"), _ms(began)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, str(exc)[:500], _ms(began)


def _ms(began: float) -> int:
    return int((time.monotonic() - began) * 1000)


@transaction.atomic
def _record(delivery: WebhookDelivery, status: int | None, excerpt: str, took: int) -> str:
    locked = (
        WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    )
    if locked.status != WebhookDelivery.Status.PENDING:
        return "recorded elsewhere"
    locked.attempts += 1
    locked.last_status_code = status
    locked.last_duration_ms = took
    locked.last_response = excerpt
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=locked.endpoint_id)
    if status is not None and 200 <= status < 300:
        locked.status = WebhookDelivery.Status.DELIVERED
        locked.delivered_at = timezone.now()
        locked.save()
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failures_in_a_row=0)
        return "delivered"
    if locked.attempts < _setting("WEBHOOK_MAX_ATTEMPTS", WEBHOOK_MAX_ATTEMPTS):
        locked.save()
        backoff = _setting("WEBHOOK_BACKOFF_SECONDS", WEBHOOK_BACKOFF_SECONDS)
        _again(locked, seconds=backoff * 2 ** (locked.attempts - 1))
        return "retrying"
    locked.status = WebhookDelivery.Status.FAILED
    locked.save()
    endpoint.failures_in_a_row += 1
    if endpoint.failures_in_a_row >= _setting("WEBHOOK_DISABLE_AFTER", WEBHOOK_DISABLE_AFTER):
        endpoint.is_active = False
        endpoint.disabled_at = timezone.now()
        for admin in get_user_model().objects.filter(is_superuser=True, is_active=True):
            events.notify(
                admin,
                Notification.Kind.WEBHOOK_OFF,
                f"The webhook endpoint {endpoint.url} was switched off: "
                f"{endpoint.failures_in_a_row} deliveries failed in a row.",
                f"/admin/api/webhookendpoint/{endpoint.pk}/change/",
            )
    endpoint.save()
    return "given up"


def _again(delivery: WebhookDelivery, *, seconds: float) -> None:
    """Try `delivery` again in `seconds`, as a new job (this one ends)."""
    _send(delivery, run_after=timezone.now() + timedelta(seconds=seconds))


def _send(delivery: WebhookDelivery, *, run_after=None) -> None:
    """The job that tries `delivery` (after commit; not before `run_after`)."""
    jobs.start(
        "api.deliver_webhook",
        label=f"Webhook {delivery.event_type}",
        run_after=run_after,
        delivery=delivery.pk,
    )


@transaction.atomic
def replay(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (the admin's Replay): same webhook-id, so a receiver
    that had it already can tell."""
    locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    locked.status = WebhookDelivery.Status.PENDING
    locked.save(update_fields=["status"])
    _send(locked)
    return locked
