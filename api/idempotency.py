"""`Idempotency-Key` on the API's POST actions: the first answer is kept with
the key; a repeat (a client retrying after a timeout) gets that answer again
and the action is not done twice. The key is written in the action's own
transaction, so two requests racing with one key wait for each other and the
second gets the first one's answer; a refused action keeps no key (nothing
was done, so it may be tried again)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from .models import IdempotencyKey
from .problems import problem

HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID): a repeat with the same key returns the first "
    "answer and does nothing.",
)
KEPT_HEADERS = ("ETag", "Location")


class _Refused(Exception):
    def __init__(self, response: Response):
        self.response = response


def idempotent(post):
    @wraps(post)
    def answer(view, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return post(view, request, *args, **kwargs)
        if len(key) > 255:
            return problem(400, "invalid", "An Idempotency-Key has at most 255 characters.")
        body = json.dumps(request.data, sort_keys=True, default=str)
        fingerprint = hashlib.sha256(
            f"{request.method} {request.path}\n{body}".encode()
        ).hexdigest()
        try:
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        kept = IdempotencyKey.objects.create(
                            user=request.user, key=key, fingerprint=fingerprint
                        )
                except IntegrityError:
                    return _replay(request.user, key, fingerprint)
                response = post(view, request, *args, **kwargs)
                if not 200 <= response.status_code < 300:
                    raise _Refused(response)
                kept.status = response.status_code
                kept.body = response.data
                kept.headers = {h: response[h] for h in KEPT_HEADERS if h in response}
                kept.save(update_fields=["status", "body", "headers"])
                return response
        except _Refused as refused:
            return refused.response

    return extend_schema(parameters=[HEADER])(answer)


def _replay(user, key: str, fingerprint: str) -> Response:
    kept = IdempotencyKey.objects.get(user=user, key=key)
    if kept.fingerprint != fingerprint:
        return problem(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was used for another request; use a new key.",
        )
    response = Response(kept.body, status=kept.status)
    for header, value in kept.headers.items():
        response[header] = value
    response["Idempotent-Replayed"] = "true"
    return response


def prune(*, now=None) -> int:
    """Forget keys older than IDEMPOTENCY_KEY_HOURS (24): scheduled hourly."""
    hours = getattr(settings, "IDEMPOTENCY_KEY_HOURS", 24)
    before = (now or timezone.now()) - timedelta(hours=hours)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=before).delete()
    return deleted
