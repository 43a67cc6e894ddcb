"""Personal API tokens: a user's key for the REST API, acting exactly as them."""

from __future__ import annotations

import base64
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX = "ll_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """Shown once when created; only its SHA-256 is kept, with its first
    characters to tell tokens apart. Read-only tokens may only read."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_start = models.CharField(max_length=12, editable=False)
    read_only = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_start}…)"

    @staticmethod
    def new_key() -> str:
        return PREFIX + secrets.token_urlsafe(32)

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class IdempotencyKey(models.Model):
    """A POST action sent with an `Idempotency-Key` header, and its answer: a
    repeat with the same key (and the same request) gets this answer again and
    changes nothing. Kept for IDEMPOTENCY_KEY_HOURS (24), then pruned."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # The request it answered: method, path and body, hashed.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True)
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotencykey_once_per_user")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotencykey_created")]

    def __str__(self) -> str:
        return self.key


EVENT_TYPES = [
    "lead.created",
    "lead.updated",
    "lead.assigned",
    "lead.qualified",
    "lead.disqualified",
    "lead.reactivated",
    "opportunity.created",
    "opportunity.stage_changed",
    "opportunity.won",
    "opportunity.lost",
    "opportunity.reopened",
    "note.created",
    "activity.created",
]


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    """Where admins want events sent, signed with its secret (Standard Webhooks)."""

    url = models.URLField(max_length=500, help_text="https://… that answers 2xx on receipt.")
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(
        default=list, blank=True, help_text=f"Event types to send; empty: all ({len(EVENT_TYPES)})."
    )
    secret = models.CharField(max_length=100, default=new_webhook_secret)
    is_active = models.BooleanField("active", default=True)
    # Deliveries given up on in a row; past WEBHOOK_DISABLE_AFTER the endpoint is switched off.
    failures_in_a_row = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["url", "pk"]

    def __str__(self) -> str:
        return self.description or self.url

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookDelivery(models.Model):
    """One event for one endpoint: its payload, and every try's outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (given up)"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=40)
    # "lead:42": a record's events reach an endpoint in the order they happened.
    record_key = models.CharField(max_length=60)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["endpoint", "record_key", "id"],
                name="webhookdelivery_pending",
                condition=models.Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint}"
