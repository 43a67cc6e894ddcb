from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, URLValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from crm.choices import Industry, PurchaseProcess, PurchaseTimeframe
from crm.db import pairs_allowed
from crm.fields import WebAddressField
from crm.internals import CachedHistoryManager
from crm.records import read_only_message
from crm.text import email_key, phone_key

from .exceptions import LeadNotOpen


class LeadSource(models.TextChoices):
    ADVERTISEMENT = "advertisement", "Advertisement"
    EMPLOYEE_REFERRAL = "employee_referral", "Employee Referral"
    EXTERNAL_REFERRAL = "external_referral", "External Referral"
    PARTNER = "partner", "Partner"
    PUBLIC_RELATIONS = "public_relations", "Public Relations"
    SEMINAR = "seminar", "Seminar"
    TRADE_SHOW = "trade_show", "Trade Show"
    WEB = "web", "Web"
    WORD_OF_MOUTH = "word_of_mouth", "Word of Mouth"
    OTHER = "other", "Other"


class Rating(models.TextChoices):
    HOT = "hot", "Hot"
    WARM = "warm", "Warm"
    COLD = "cold", "Cold"


class PreferredContactMethod(models.TextChoices):
    ANY = "any", "Any"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    FAX = "fax", "Fax"
    MAIL = "mail", "Mail"


class LeadState(models.TextChoices):
    OPEN = "open", "Open"
    QUALIFIED = "qualified", "Qualified"
    DISQUALIFIED = "disqualified", "Disqualified"


class LeadStatusReason(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFIED = "qualified", "Qualified"
    LOST = "lost", "Lost"
    CANNOT_CONTACT = "cannot_contact", "Cannot Contact"
    NO_LONGER_INTERESTED = "no_longer_interested", "No Longer Interested"
    CANCELED = "canceled", "Canceled"


# Which status reasons belong to which state (Lead.STATUS_REASONS_BY_STATE); the
# check constraint on Lead is written from it, so the database refuses any other pair.
LEAD_STATUS_REASONS = {
    LeadState.OPEN: (LeadStatusReason.NEW, LeadStatusReason.CONTACTED),
    LeadState.QUALIFIED: (LeadStatusReason.QUALIFIED,),
    LeadState.DISQUALIFIED: (
        LeadStatusReason.LOST,
        LeadStatusReason.CANNOT_CONTACT,
        LeadStatusReason.NO_LONGER_INTERESTED,
        LeadStatusReason.CANCELED,
    ),
}


UNSCORED = -1


class ScoreTrend(models.TextChoices):
    IMPROVING = "improving", "Improving"
    STEADY = "steady", "Steady"
    DECLINING = "declining", "Declining"


class Lead(models.Model):
    """A potential customer not yet qualified."""

    UNSCORED = UNSCORED
    ScoreTrend = ScoreTrend

    State = LeadState
    StatusReason = LeadStatusReason
    STATUS_REASONS_BY_STATE = LEAD_STATUS_REASONS
    DISQUALIFY_REASONS = STATUS_REASONS_BY_STATE[State.DISQUALIFIED]

    # Fields a change to an inactive lead may touch: only the lifecycle itself.
    LIFECYCLE_FIELDS = frozenset({"state", "status_reason", "stage_id", "modified_at"})

    topic = models.CharField(
        max_length=200, help_text="What the lead is interested in, or how it came in."
    )
    first_name = models.CharField(max_length=80, blank=True)
    last_name = models.CharField(max_length=80, blank=True)
    company_name = models.CharField(max_length=160, blank=True)
    job_title = models.CharField(max_length=100, blank=True)
    business_phone = models.CharField(max_length=50, blank=True)
    mobile_phone = models.CharField(max_length=50, blank=True)
    email = models.EmailField(blank=True)
    # Derived keys for duplicate detection (crm.text; NULL when there is nothing to
    # match on), kept by save() and set_derived_fields() for bulk inserts.
    email_key = models.CharField(max_length=254, null=True, editable=False)
    business_phone_key = models.CharField(max_length=50, null=True, editable=False)
    mobile_phone_key = models.CharField(max_length=50, null=True, editable=False)
    website = WebAddressField(blank=True)
    preferred_contact_method = models.CharField(
        max_length=10, choices=PreferredContactMethod.choices, default=PreferredContactMethod.ANY
    )
    do_not_email = models.BooleanField("do not email", default=False)
    do_not_call = models.BooleanField("do not call", default=False)
    lead_source = models.CharField(max_length=30, choices=LeadSource.choices, blank=True)
    rating = models.CharField(max_length=10, choices=Rating.choices, default=Rating.WARM)
    industry = models.CharField(max_length=30, choices=Industry.choices, blank=True)
    budget_amount = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    currency = models.ForeignKey(
        "crm.Currency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    purchase_timeframe = models.CharField(
        max_length=20, choices=PurchaseTimeframe.choices, blank=True
    )
    purchase_process = models.CharField(max_length=20, choices=PurchaseProcess.choices, blank=True)
    decision_maker_identified = models.BooleanField(default=False)
    description = models.TextField(blank=True)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="leads"
    )
    existing_account = models.ForeignKey(
        "accounts.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    existing_contact = models.ForeignKey(
        "accounts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    status_reason = models.CharField(
        max_length=30, choices=StatusReason.choices, default=StatusReason.NEW
    )
    stage = models.ForeignKey(
        "crm.ProcessStage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    qualified_account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="originating_leads",
    )
    qualified_contact = models.ForeignKey(
        "accounts.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="originating_leads",
    )
    qualified_opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    # A default rather than auto_now_add so imports and demo data can keep real dates.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    modified_at = models.DateTimeField(auto_now=True)
    qualified_at = models.DateTimeField(null=True, blank=True)
    # Derived from created_at and qualified_at by save(): what the lead-source
    # report averages, without parsing two dates per lead (docs/PERFORMANCE.md).
    days_to_qualify = models.FloatField(null=True, editable=False)
    qualified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    disqualified_at = models.DateTimeField(null=True, blank=True)
    disqualified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Which routing rule chose the owner when the lead was created without one.
    routed_by_rule = models.ForeignKey(
        "leads.RoutingRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="routed_leads",
        editable=False,
    )
    routed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Predictive lead scoring (leads.scoring): the published model's score 0-100
    # (UNSCORED until one scores it: never NULL, so the score sort is a keyset
    # over an index like the other sorts), its grade A-D and its trend. Written
    # by the scoring jobs with UPDATE only: no history row, no new version.
    score = models.SmallIntegerField(default=-1, editable=False)
    score_grade = models.CharField(max_length=1, blank=True, editable=False)
    score_trend = models.CharField(
        max_length=10, choices=ScoreTrend.choices, blank=True, editable=False
    )

    # Audit trail: a snapshot of the row per save, read back by crm.history. History
    # is looked up by record id only, so the copied foreign keys get no index.
    history = HistoricalRecords(
        history_id_field=models.BigAutoField(primary_key=True),
        history_manager=CachedHistoryManager,
        excluded_fields=[
            "email_key",
            "business_phone_key",
            "mobile_phone_key",
            "days_to_qualify",
            "score",
            "score_grade",
            "score_trend",
        ],
        no_db_index=[
            "currency",
            "owner",
            "existing_account",
            "existing_contact",
            "stage",
            "qualified_account",
            "qualified_contact",
            "qualified_opportunity",
            "qualified_by",
            "disqualified_by",
            "routed_by_rule",
        ],
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=pairs_allowed("state", "status_reason", LEAD_STATUS_REASONS),
                name="lead_state_status_reason_consistent",
                violation_error_message="The status reason does not belong to the lead's state.",
            ),
            models.CheckConstraint(
                condition=~models.Q(topic=""),
                name="lead_topic_required",
                violation_error_message="Topic is required.",
            ),
            models.CheckConstraint(
                condition=(
                    ~models.Q(first_name="") | ~models.Q(last_name="") | ~models.Q(company_name="")
                ),
                name="lead_person_or_company_required",
                violation_error_message="Enter a first or last name, or a company name.",
            ),
        ]
        indexes = [
            # Every list orders by its sort column(s) then pk, so a page is a range
            # scan of one of these indexes (keyset pagination; see docs/PERFORMANCE.md).
            # My Open Leads: owner + state, newest first.
            models.Index(
                fields=["owner", "state", "-created_at", "-id"], name="lead_owner_state_created"
            ),
            # Open Leads, newest first.
            models.Index(fields=["state", "-created_at", "-id"], name="lead_state_created"),
            # Closed and All Leads, newest first, and the created date range filter.
            models.Index(fields=["-created_at", "-id"], name="lead_created"),
            # The other sortable columns; read backwards for a descending sort.
            models.Index(fields=["last_name", "first_name", "id"], name="lead_name"),
            models.Index(fields=["topic", "id"], name="lead_topic"),
            models.Index(fields=["company_name", "id"], name="lead_company"),
            models.Index(fields=["status_reason", "id"], name="lead_status_reason"),
            models.Index(fields=["lead_source", "id"], name="lead_source"),
            models.Index(fields=["rating", "id"], name="lead_rating"),
            models.Index(fields=["owner", "id"], name="lead_owner"),
            # The score sort: My Open Leads Scored, the open leads, any list.
            models.Index(fields=["owner", "state", "-score", "-id"], name="lead_owner_state_score"),
            models.Index(fields=["state", "-score", "-id"], name="lead_state_score"),
            models.Index(fields=["score", "id"], name="lead_score"),
            # The lead-source report: every column it reads, in its GROUP BY order;
            # with the id (which SQLite keeps in every index anyway) for PostgreSQL's
            # join to the won opportunities.
            models.Index(
                fields=["lead_source", "state", "created_at", "days_to_qualify"],
                include=["id"],
                name="lead_report",
            ),
            # Duplicate detection (CSV import): same email or phone. Partial: the
            # leads without one are left out, which also keeps SQLite's statistics
            # from counting them as one huge group (and scanning the table instead).
            *(
                models.Index(
                    fields=[key],
                    name=f"lead_{key}",
                    condition=models.Q(**{f"{key}__isnull": False}),
                )
                for key in ("email_key", "business_phone_key", "mobile_phone_key")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} ({self.display_name})" if self.display_name else self.topic

    @property
    def score_or_none(self) -> int | None:
        """The score, or None while the lead has none."""
        return None if self.score < 0 else self.score

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # Remember what was loaded so save() can tell a field edit of an
        # inactive lead from a lifecycle change.
        instance._loaded = dict(zip(field_names, values, strict=True))
        return instance

    def save(self, *args, **kwargs) -> None:
        self._refuse_edit_when_inactive()
        self.set_derived_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {
                *update_fields,
                *(self.DERIVED_FIELDS[f] for f in update_fields if f in self.DERIVED_FIELDS),
            }
        super().save(*args, **kwargs)
        self._loaded = {f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields}

    def get_absolute_url(self) -> str:
        return reverse("leads:detail", args=[self.pk])

    # The field each derived field comes from (saved along with it).
    DERIVED_FIELDS = {
        "email": "email_key",
        "business_phone": "business_phone_key",
        "mobile_phone": "mobile_phone_key",
        "qualified_at": "days_to_qualify",
    }

    def set_derived_fields(self) -> None:
        """Derive the DERIVED_FIELDS (done by save(); bulk inserts call it)."""
        self.email_key = email_key(self.email) or None
        self.business_phone_key = phone_key(self.business_phone) or None
        self.mobile_phone_key = phone_key(self.mobile_phone) or None
        self.days_to_qualify = self.days_between(self.created_at, self.qualified_at)

    @staticmethod
    def days_between(created_at, qualified_at) -> float | None:
        """days_to_qualify: the days (with fractions) from creation to qualification."""
        if not (created_at and qualified_at):
            return None
        return (qualified_at - created_at).total_seconds() / 86400

    def _refuse_edit_when_inactive(self) -> None:
        loaded = getattr(self, "_loaded", None)
        if not loaded or self.pk is None:
            return
        if loaded.get("state", self.State.OPEN) == self.State.OPEN:
            return
        changed = {
            attname
            for attname, old in loaded.items()
            if attname not in self.LIFECYCLE_FIELDS and getattr(self, attname) != old
        }
        if changed:
            raise LeadNotOpen(read_only_message(self))

    @property
    def is_active(self) -> bool:
        return self.state == self.State.OPEN

    # How crm.records.read_only_message speaks of an inactive lead.
    reactivate_hint = "reactivate it"

    @property
    def inactive_label(self) -> str:
        return self.get_state_display().lower()

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def display_name(self) -> str:
        return self.full_name or self.company_name

    @property
    def has_person_name(self) -> bool:
        return bool(self.first_name.strip() or self.last_name.strip())


class RoutingRule(models.Model):
    """Who gets a lead created without an owner (leads.routing applies the rules).

    Every condition left blank matches any lead; the ones given must all match.
    The target is one user, or a team (a group) whose active members take turns.
    """

    name = models.CharField(max_length=120)
    order = models.PositiveIntegerField(
        default=0, help_text="Rules are tried from the lowest number up; the first match wins."
    )
    is_active = models.BooleanField("active", default=True)
    lead_source = models.CharField(max_length=30, choices=LeadSource.choices, blank=True)
    industry = models.CharField(max_length=30, choices=Industry.choices, blank=True)
    rating = models.CharField(max_length=10, choices=Rating.choices, blank=True)
    email_domain = models.CharField(
        max_length=253,
        blank=True,
        help_text="The part of the lead's email after @, e.g. contoso.com (any case).",
    )
    assign_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Give matching leads to this user…",
    )
    team = models.ForeignKey(
        "auth.Group",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="…or share them round-robin among this group's active members.",
    )
    # Round-robin state: the team member who got the last lead. Read and written
    # only under a row lock on the rule (leads.routing.route_lead).
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(assign_to__isnull=False, team__isnull=True)
                    | models.Q(assign_to__isnull=True, team__isnull=False)
                ),
                name="routingrule_exactly_one_target",
                violation_error_message="Choose either a user or a team to assign leads to.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Stored the way it is compared: lower case, without a leading "@".
        self.email_domain = self.email_domain.strip().lstrip("@").lower()
        if "@" in self.email_domain or " " in self.email_domain:
            raise ValidationError({"email_domain": "Enter a domain only, e.g. contoso.com."})

    @property
    def conditions_display(self) -> str:
        parts = [
            f"{label}: {value}"
            for label, value in (
                ("Source", self.get_lead_source_display()),
                ("Industry", self.get_industry_display()),
                ("Rating", self.get_rating_display()),
                ("Email", f"@{self.email_domain}" if self.email_domain else ""),
            )
            if value
        ]
        return ", ".join(parts) or "Any lead"

    @property
    def target_display(self) -> str:
        if self.team_id:
            return f"Team {self.team} (round-robin)"
        return str(self.assign_to)


def new_web_to_lead_token() -> str:
    return secrets.token_urlsafe(24)


class WebToLeadForm(models.Model):
    """A form on a public website whose posts become leads (leads.web_to_lead)."""

    name = models.CharField(max_length=120)
    token = models.CharField(
        max_length=64, unique=True, default=new_web_to_lead_token, editable=False
    )
    is_active = models.BooleanField("active", default=True)
    lead_source = models.CharField(
        max_length=30, choices=LeadSource.choices, default=LeadSource.WEB
    )
    thank_you_url = WebAddressField(
        "thank-you page",
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Where the visitor's browser goes after posting; empty: answer JSON.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "web-to-lead form"

    def __str__(self) -> str:
        return self.name

    @property
    def endpoint_path(self) -> str:
        return reverse("web_to_lead", args=[self.token])


class WebToLeadPost(models.Model):
    """One post to a web-to-lead form: the rate limit counts these per address."""

    form = models.ForeignKey(WebToLeadForm, on_delete=models.CASCADE, related_name="+")
    ip = models.GenericIPAddressField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The count: this form, this address, since the window began.
            models.Index(fields=["form", "ip", "created_at"], name="webtolead_post_count"),
            # The prune: everything older than the window.
            models.Index(fields=["created_at"], name="webtolead_post_created"),
        ]

    def __str__(self) -> str:
        return f"{self.ip} → {self.form} at {self.created_at:%Y-%m-%d %H:%M:%S}"


def export_path(export: LeadExport, filename: str) -> str:
    # A random folder per export, as for uploads (crm.storage).
    return f"exports/{secrets.token_hex(16)}/{filename}"


class LeadExport(models.Model):
    """A lead list exported by a worker to a file (above EXPORT_STREAM_MAX_ROWS;
    smaller exports stream in the request). Its file is for its owner only and
    is deleted when it expires (the scheduled job "leads.expire_exports")."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The list's query string (view, filters, search, sort), as the list page had it.
    query = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to=export_path, max_length=255, blank=True)
    file_name = models.CharField(max_length=100)
    rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["expires_at"],
                name="leadexport_ready_expiry",
                condition=models.Q(status="ready"),
            )
        ]

    def __str__(self) -> str:
        return self.file_name

    def get_absolute_url(self) -> str:
        return reverse("leads:export_status", args=[self.pk])


class BulkAction(models.Model):
    """Qualify or disqualify every open lead of a list, in a worker (more than
    a page of leads; a page's selection runs in the request). Each lead's
    outcome is a BulkOutcome, written with the lead's change."""

    class Action(models.TextChoices):
        QUALIFY = "qualify", "Qualify"
        DISQUALIFY = "disqualify", "Disqualify"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Finished"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    # The list's query string: its leads are read as the owner sees them.
    query = models.TextField(blank=True)
    # The qualify dialog's answers (a currency by id) or the disqualify reason.
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    # The leads are taken in id order up to the newest the list had at the
    # start (`up_to`); `position` is the last id done, moved with each chunk.
    up_to = models.BigIntegerField(default=0)
    position = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.total:,} leads"

    def get_absolute_url(self) -> str:
        return reverse("leads:bulk_status", args=[self.pk])

    @property
    def refused(self) -> int:
        return self.done - self.succeeded


class BulkOutcome(models.Model):
    """What a bulk action did to one lead: done, or why not."""

    bulk = models.ForeignKey(BulkAction, on_delete=models.CASCADE, related_name="outcomes")
    lead = models.ForeignKey(Lead, on_delete=models.SET_NULL, null=True, related_name="+")
    lead_name = models.CharField(max_length=300)
    ok = models.BooleanField()
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["bulk", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["bulk", "lead"], name="bulkoutcome_once_per_lead")
        ]

    def __str__(self) -> str:
        return f"{self.lead_name}: {'done' if self.ok else self.message}"


# --- Predictive lead scoring (leads.scoring) ---------------------------------------------------


class ScoringSettings(models.Model):
    """The organisation's lead scoring: which closed leads train the model, the
    grade thresholds, and the fields an admin adds to the model. One row."""

    window_days = models.PositiveIntegerField(
        "training window (days)",
        default=730,
        validators=[MinValueValidator(91)],
        help_text="Leads qualified or disqualified in this many days train the model "
        "(at least 3 months; default 2 years).",
    )
    grade_a = models.PositiveSmallIntegerField("grade A from", default=70)
    grade_b = models.PositiveSmallIntegerField("grade B from", default=50)
    grade_c = models.PositiveSmallIntegerField("grade C from", default=30)
    extra_fields = models.JSONField(
        "more lead fields",
        default=list,
        blank=True,
        help_text="Names of more lead fields the model learns from (a choice, yes/no, "
        'text or number field), e.g. ["preferred_contact_method", "do_not_call"].',
    )

    class Meta:
        verbose_name = verbose_name_plural = "lead scoring settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade_a__lte=100)
                & models.Q(grade_a__gt=models.F("grade_b"))
                & models.Q(grade_b__gt=models.F("grade_c")),
                name="scoring_grades_descend",
                violation_error_message="Grade thresholds must fall: A above B above C, A at "
                "most 100.",
            )
        ]

    def __str__(self) -> str:
        return "Lead scoring settings"

    @classmethod
    def load(cls) -> ScoringSettings:
        found, _ = cls.objects.get_or_create(pk=1)
        return found


class ScoringModel(models.Model):
    """One training of the lead scoring model: the counts it learned (its whole
    content: a score is computed from them alone), its quality on a later
    held-out slice of time, and whether it was published."""

    class Quality(models.TextChoices):
        READY = "ready", "Ready"
        OK = "ok", "OK"
        NOT_READY = "not_ready", "Not ready"

    trained_at = models.DateTimeField(default=timezone.now)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    window_start = models.DateTimeField()
    qualified = models.PositiveIntegerField(default=0)
    disqualified = models.PositiveIntegerField(default=0)
    auc = models.FloatField("AUC", null=True, blank=True)
    holdout_size = models.PositiveIntegerField(default=0)
    quality = models.CharField(max_length=10, choices=Quality.choices)
    reason = models.TextField(blank=True)
    is_published = models.BooleanField(default=False)
    seconds = models.FloatField(default=0)
    content = models.JSONField(default=dict)

    class Meta:
        ordering = ["-trained_at", "-id"]
        get_latest_by = "trained_at"
        constraints = [
            models.UniqueConstraint(
                fields=["is_published"],
                condition=models.Q(is_published=True),
                name="scoring_one_published_model",
            )
        ]

    def __str__(self) -> str:
        return f"Model of {self.trained_at:%Y-%m-%d %H:%M} ({self.get_quality_display()})"


class ScoreHistory(models.Model):
    """A lead's score each time it changed: the lead page's chart and the trend."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="score_history")
    score = models.PositiveSmallIntegerField()
    scored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["lead", "-scored_at"], name="score_history_lead")]

    def __str__(self) -> str:
        return f"{self.score} at {self.scored_at:%Y-%m-%d %H:%M}"
