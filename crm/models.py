"""What every app shares: currencies, the organisation settings singleton and
the business process flow definition (the stage bar)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from .filetypes import DEFAULT_BLOCKED_TEXT, parse_extensions


class Currency(models.Model):
    """A currency, with its exchange rate to the organisation's base currency (kept
    by admins, as in Dynamics 365: units of this currency per one base unit)."""

    code = models.CharField("ISO 4217 code", max_length=3, unique=True)
    name = models.CharField(max_length=60)
    symbol = models.CharField(max_length=5, blank=True)
    decimal_places = models.PositiveSmallIntegerField(default=2)
    exchange_rate = models.DecimalField(
        max_digits=18,
        decimal_places=6,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.000001"))],
        help_text="Units of this currency per one unit of the base currency (Organisation "
        "settings); the base currency's own rate is 1.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "currencies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(exchange_rate__gt=0),
                name="currency_exchange_rate_positive",
                violation_error_message="An exchange rate must be more than 0.",
            )
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        is_base = (
            self.pk is not None
            and OrganizationSettings.objects.filter(base_currency_id=self.pk).exists()
        )
        if is_base and self.exchange_rate != 1:
            raise ValidationError(
                {"exchange_rate": "This is the base currency: its exchange rate is 1."}
            )


class OrganizationSettings(models.Model):
    """One row (pk=1) holding the organisation-wide options admins change."""

    SINGLETON_PK = 1

    create_records_on_qualify = models.BooleanField(
        "Create account, contact and opportunity records by default upon qualifying a lead",
        default=True,
    )
    default_currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    base_currency = models.ForeignKey(
        Currency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Reports and the opportunity board add money up in this currency; every "
        "currency's exchange rate is to it (its own rate must be 1).",
    )
    duplicate_detection_enabled = models.BooleanField(default=True)
    default_lead_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Gets a lead created without an owner when no routing rule matches.",
    )
    blocked_attachment_extensions = models.TextField(
        "Blocked file extensions for attachments",
        default=DEFAULT_BLOCKED_TEXT,
        blank=True,
        help_text="Files of these types cannot be attached to notes or downloaded. Separate "
        "them with semicolons, as in Dynamics 365. The default is Microsoft's list for "
        "Dynamics 365 with web pages, macro-enabled Office files, disk images and scripts added.",
    )

    class Meta:
        verbose_name = "organisation settings"
        verbose_name_plural = "organisation settings"

    def __str__(self) -> str:
        return "Organisation settings"

    def clean(self) -> None:
        if self.base_currency is not None and self.base_currency.exchange_rate != 1:
            raise ValidationError(
                {
                    "base_currency": f"{self.base_currency}'s exchange rate is "
                    f"{self.base_currency.exchange_rate}; set it to 1 first, and the other "
                    "currencies' rates to it."
                }
            )

    def blocked_extensions(self) -> frozenset[str]:
        return parse_extensions(self.blocked_attachment_extensions)

    def save(self, *args, **kwargs) -> None:
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    @classmethod
    def load(cls, **annotations: Any) -> OrganizationSettings:
        """The singleton, created with defaults (USD) the first time it is asked for.

        `annotations` ride along in the same query (a service that needs one
        more value with the settings saves a round trip).
        """
        query = (
            cls.objects.select_related("default_currency", "base_currency")
            .annotate(**annotations)
            .filter(pk=cls.SINGLETON_PK)
        )
        obj = query.first()
        if obj is None:
            usd = Currency.objects.filter(code="USD").first()
            cls.objects.get_or_create(
                pk=cls.SINGLETON_PK,
                defaults={"default_currency": usd, "base_currency": usd},
            )
            obj = query.get()
        return obj


class ProcessFlow(models.Model):
    """A business process flow: ordered stages, each with steps, shown as the stage bar."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(
        default=False,
        help_text="The organisation's flow: new leads and opportunities follow it unless "
        "their creator's role has a flow of its own.",
    )
    default_for_groups = models.ManyToManyField(
        Group,
        blank=True,
        related_name="default_process_flows",
        help_text="New records created by members of these roles follow this flow (the "
        "first by name when a user's roles name several).",
    )
    hidden_from_groups = models.ManyToManyField(
        Group,
        blank=True,
        related_name="hidden_process_flows",
        help_text="Members of these roles do not see the stage bar.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="processflow_single_default",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default(cls) -> ProcessFlow | None:
        return cls.objects.filter(is_default=True).first()


class ProcessStage(models.Model):
    class Entity(models.TextChoices):
        LEAD = "lead", "Lead"
        OPPORTUNITY = "opportunity", "Opportunity"

    process = models.ForeignKey(ProcessFlow, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=60)
    entity = models.CharField(
        max_length=20,
        choices=Entity.choices,
        help_text="The record the stage is worked on: a lead before qualifying, an "
        "opportunity after.",
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["process", "order", "pk"]

    def __str__(self) -> str:
        return self.name


# The record each stage entity's steps are fields of (looked up by label: the
# core imports no feature app).
STEP_MODELS = {"lead": "leads.Lead", "opportunity": "opportunities.Opportunity"}


class ProcessStep(models.Model):
    stage = models.ForeignKey(ProcessStage, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=80)
    field_name = models.CharField(
        max_length=60,
        blank=True,
        help_text="Field of the lead or opportunity this step shows and fills, if any.",
    )
    is_required = models.BooleanField(
        default=False,
        help_text="Next stage (for a lead: Qualify) is refused until this step is filled "
        "in or ticked.",
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["stage", "order", "pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.field_name:
            if self.is_required:
                raise ValidationError(
                    {"is_required": "A required step needs a field to fill in or tick."}
                )
            return
        if self.stage_id is None:
            return
        model = apps.get_model(STEP_MODELS[self.stage.entity])
        try:
            field = model._meta.get_field(self.field_name)
        except FieldDoesNotExist:
            field = None
        if field is None or not field.concrete or not field.editable or field.primary_key:
            raise ValidationError(
                {
                    "field_name": f"{model._meta.verbose_name.capitalize()} has no field "
                    f"“{self.field_name}” a rep can fill in."
                }
            )


class Job(models.Model):
    """A piece of background work (crm.jobs): what to run, for whom, and how it
    went. The durable record a worker claims; the task backend only carries a
    message pointing at it, so a lost message can be sent again."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=100, help_text="The registered handler that runs it.")
    label = models.CharField(max_length=200)
    arguments = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # How many runs have started: a run records its end only while it is the
    # latest (a run given up for dead must not overwrite its successor's).
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True)
    task_id = models.CharField(max_length=64, blank=True, help_text="The task backend's id.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The sweeper's and the admin's view of unfinished jobs.
            models.Index(
                fields=["status", "created_at"],
                name="job_unfinished",
                condition=models.Q(status__in=["queued", "running"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_status_display().lower()})"


class ScheduledRun(models.Model):
    """One run of a scheduled job in one time slot: the unique key lets every
    worker try to start it and exactly one succeed (crm.schedule)."""

    name = models.CharField(max_length=100)
    slot = models.BigIntegerField(help_text="Which period since the epoch it ran for.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "slot"], name="scheduledrun_once_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.slot}"


class Notification(models.Model):
    """Something a user is told in the app (the bell) and, if they wish, by email."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "A lead or opportunity is assigned to me"
        IMPORT_DONE = "import_done", "My import has finished"
        EXPORT_READY = "export_ready", "My export is ready"
        BULK_DONE = "bulk_done", "My bulk action has finished"
        WEBHOOK_OFF = "webhook_off", "A webhook endpoint was switched off (admins)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_new"),
            models.Index(
                fields=["user"], name="notification_unread", condition=models.Q(read_at=None)
            ),
        ]

    def __str__(self) -> str:
        return self.text


class NotificationSettings(models.Model):
    """Which notifications a user also gets by email (all are shown in the app)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email_kinds = models.JSONField(
        default=list, blank=True, help_text="The Notification kinds also sent by email."
    )

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"Notification settings of {self.user}"
