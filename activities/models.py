"""Notes, activities and stakeholder connections.

Each "regarding" link is an explicit nullable foreign key per record type with
a check constraint that exactly one is set, rather than a generic relation:
the database then cascades deletes, keeps referential integrity and can index
each link, and a timeline query is a plain indexed filter.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

REGARDING_FIELDS = ("lead", "account", "contact", "opportunity")


def exactly_one_of(fields: tuple[str, ...]) -> models.Q:
    condition = models.Q()
    for chosen in fields:
        term = models.Q(**{f"{chosen}__isnull": False})
        for other in fields:
            if other != chosen:
                term &= models.Q(**{f"{other}__isnull": True})
        condition |= term
    return condition


class Regarding(models.Model):
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, null=True, blank=True)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, null=True, blank=True)
    contact = models.ForeignKey("accounts.Contact", on_delete=models.CASCADE, null=True, blank=True)
    opportunity = models.ForeignKey(
        "opportunities.Opportunity", on_delete=models.CASCADE, null=True, blank=True
    )

    class Meta:
        abstract = True

    @property
    def regarding(self):
        for name in REGARDING_FIELDS:
            obj = getattr(self, name)
            if obj is not None:
                return obj
        return None


def attachment_path(note: Note, filename: str) -> str:
    # A random folder per file: names never collide and cannot be guessed; the
    # (already sanitised) name is kept so the stored file is recognisable.
    now = timezone.now()
    return str(PurePosixPath("notes", f"{now:%Y}", f"{now:%m}", uuid.uuid4().hex, filename))


class Note(Regarding):
    timeline_kind = "note"

    title = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    # Stored with the storage API under MEDIA_ROOT and served only by the
    # attachment view, which checks that the user may see the record.
    attachment = models.FileField(upload_to=attachment_path, max_length=255, blank=True)
    attachment_name = models.CharField(max_length=255, blank=True)
    attachment_size = models.PositiveBigIntegerField(default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notes"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of(REGARDING_FIELDS), name="note_regards_exactly_one"
            )
        ]
        indexes = [
            models.Index(fields=["lead", "-created_at"], name="note_lead_created"),
            models.Index(fields=["account", "-created_at"], name="note_account_created"),
            models.Index(fields=["contact", "-created_at"], name="note_contact_created"),
            models.Index(fields=["opportunity", "-created_at"], name="note_opp_created"),
        ]

    def __str__(self) -> str:
        return self.title or (self.text[:50] if self.text else self.attachment_name or "Note")

    def get_absolute_url(self) -> str:
        return self.regarding.get_absolute_url() + f"#note-{self.pk}"

    @property
    def download_url(self) -> str:
        return reverse("activities:attachment", args=[self.pk]) if self.attachment else ""


class ActivityType(models.TextChoices):
    PHONE_CALL = "phone_call", "Phone call"
    EMAIL = "email", "Email"
    TASK = "task", "Task"
    APPOINTMENT = "appointment", "Appointment"


class ActivityStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    CANCELED = "canceled", "Canceled"


class Activity(Regarding):
    Type = ActivityType
    Status = ActivityStatus
    timeline_kind = "activity"

    class Direction(models.TextChoices):
        OUTGOING = "outgoing", "Outgoing"
        INCOMING = "incoming", "Incoming"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"

    type = models.CharField(max_length=20, choices=Type.choices)
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activities"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    # Phone call and email.
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    phone_number = models.CharField(max_length=50, blank=True)
    email_from = models.CharField(max_length=254, blank=True)
    email_to = models.CharField(max_length=1000, blank=True)
    # Task.
    priority = models.CharField(
        max_length=10, choices=Priority.choices, default=Priority.NORMAL, blank=True
    )
    # Appointment.
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "activities"
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of(REGARDING_FIELDS), name="activity_regards_exactly_one"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True)
                | models.Q(starts_at__isnull=True)
                | models.Q(ends_at__gte=models.F("starts_at")),
                name="activity_ends_after_start",
                violation_error_message="An appointment cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=ActivityType.values), name="activity_type_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ActivityStatus.values), name="activity_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status", "due_at"], name="activity_owner_status_due"),
            models.Index(fields=["lead", "-created_at"], name="activity_lead_created"),
            models.Index(fields=["account", "-created_at"], name="activity_account_created"),
            models.Index(fields=["contact", "-created_at"], name="activity_contact_created"),
            models.Index(fields=["opportunity", "-created_at"], name="activity_opp_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()}: {self.subject}"

    def get_absolute_url(self) -> str:
        return self.regarding.get_absolute_url() + f"#activity-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()


class Connection(models.Model):
    """A stakeholder: a contact connected to a lead or an opportunity with a role."""

    class Role(models.TextChoices):
        STAKEHOLDER = "stakeholder", "Stakeholder"
        DECISION_MAKER = "decision_maker", "Decision Maker"
        TECHNICAL_BUYER = "technical_buyer", "Technical Buyer"
        ECONOMIC_BUYER = "economic_buyer", "Economic Buyer"
        INFLUENCER = "influencer", "Influencer"

    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, null=True, blank=True, related_name="connections"
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="connections",
    )
    contact = models.ForeignKey(
        "accounts.Contact", on_delete=models.CASCADE, related_name="connections"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAKEHOLDER)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of(("lead", "opportunity")),
                name="connection_lead_or_opportunity",
            ),
            models.UniqueConstraint(
                fields=["lead", "contact"],
                condition=models.Q(lead__isnull=False),
                name="connection_unique_lead_contact",
            ),
            models.UniqueConstraint(
                fields=["opportunity", "contact"],
                condition=models.Q(opportunity__isnull=False),
                name="connection_unique_opportunity_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({self.get_role_display()})"
