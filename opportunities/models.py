from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from crm.choices import PurchaseProcess, PurchaseTimeframe
from crm.db import pairs_allowed
from crm.internals import CachedHistoryManager


class OpportunityState(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class OpportunityStatusReason(models.TextChoices):
    IN_PROGRESS = "in_progress", "In Progress"
    ON_HOLD = "on_hold", "On Hold"
    WON = "won", "Won"
    CANCELED = "canceled", "Canceled"
    OUT_SOLD = "out_sold", "Out-Sold"


# Which status reasons belong to which state; the check constraint is written from it.
OPPORTUNITY_STATUS_REASONS = {
    OpportunityState.OPEN: (OpportunityStatusReason.IN_PROGRESS, OpportunityStatusReason.ON_HOLD),
    OpportunityState.WON: (OpportunityStatusReason.WON,),
    OpportunityState.LOST: (OpportunityStatusReason.CANCELED, OpportunityStatusReason.OUT_SOLD),
}


class Opportunity(models.Model):
    """A potential sale. As in Dynamics 365, it links an account, a contact or both
    (at least one); its customer ("potential customer") is the account when it has
    one, else the contact."""

    State = OpportunityState
    StatusReason = OpportunityStatusReason
    STATUS_REASONS_BY_STATE = OPPORTUNITY_STATUS_REASONS

    name = models.CharField("topic", max_length=200)
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    contact = models.ForeignKey(
        "accounts.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    currency = models.ForeignKey("crm.Currency", on_delete=models.PROTECT, related_name="+")
    budget_amount = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    estimated_revenue = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    actual_revenue = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    estimated_close_date = models.DateField(null=True, blank=True)
    actual_close_date = models.DateField(null=True, blank=True)
    purchase_timeframe = models.CharField(
        max_length=20, choices=PurchaseTimeframe.choices, blank=True
    )
    purchase_process = models.CharField(max_length=20, choices=PurchaseProcess.choices, blank=True)
    description = models.TextField(blank=True)
    originating_lead = models.ForeignKey(
        "leads.Lead",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opportunities"
    )
    # No index of its own: the board reads stages through the partial indexes of
    # open opportunities below (with one here, SQLite's planner took it and read
    # every row), and deleting a stage in the admin may scan the table.
    stage = models.ForeignKey(
        "crm.ProcessStage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    status_reason = models.CharField(
        max_length=20, choices=StatusReason.choices, default=StatusReason.IN_PROGRESS
    )

    # Business process flow steps (Develop, Propose, Close).
    customer_need = models.TextField(blank=True)
    proposed_solution = models.TextField(blank=True)
    identify_stakeholders = models.BooleanField(default=False)
    identify_competitors = models.BooleanField(default=False)
    identify_sales_team = models.BooleanField(default=False)
    develop_proposal = models.BooleanField(default=False)
    complete_internal_review = models.BooleanField(default=False)
    present_proposal = models.BooleanField(default=False)
    complete_final_proposal = models.BooleanField(default=False)
    present_final_proposal = models.BooleanField(default=False)
    final_decision_date = models.DateField(null=True, blank=True)
    send_thank_you = models.BooleanField("send thank-you note", default=False)
    file_debrief = models.BooleanField(default=False)

    # A default rather than auto_now_add so imports and demo data can keep real dates.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    modified_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # Audit trail (see crm.history); history is looked up by record id only, so
    # the copied foreign keys get no index.
    history = HistoricalRecords(
        history_id_field=models.BigAutoField(primary_key=True),
        history_manager=CachedHistoryManager,
        no_db_index=[
            "account",
            "contact",
            "currency",
            "originating_lead",
            "owner",
            "stage",
            "closed_by",
        ],
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "opportunities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account__isnull=False) | models.Q(contact__isnull=False),
                name="opportunity_has_a_customer",
                violation_error_message="An opportunity needs a customer: an account, a "
                "contact or both.",
            ),
            models.CheckConstraint(
                condition=pairs_allowed("state", "status_reason", OPPORTUNITY_STATUS_REASONS),
                name="opportunity_state_status_reason_consistent",
                violation_error_message="The status reason does not belong to the state.",
            ),
        ]
        indexes = [
            # The board: each stage's open opportunities newest first (its cards),
            # and every column's count and total, covered (the close date the board
            # filters on too, and the state: SQLite 3.40 does not count a partial
            # index's own condition as covered); the same per owner for "my
            # opportunities".
            models.Index(
                fields=[
                    "stage",
                    "-id",
                    "currency",
                    "estimated_revenue",
                    "estimated_close_date",
                    "state",
                ],
                condition=models.Q(state="open"),
                name="opp_open_stage",
            ),
            models.Index(
                fields=[
                    "owner",
                    "stage",
                    "-id",
                    "currency",
                    "estimated_revenue",
                    "estimated_close_date",
                    "state",
                ],
                condition=models.Q(state="open"),
                name="opp_open_owner_stage",
            ),
            models.Index(fields=["owner", "state", "-created_at"], name="opp_owner_state_created"),
            models.Index(fields=["state", "-created_at"], name="opp_state_created"),
            # The list's order, the primary key breaking ties: a page and its capped
            # count read the index alone (with created_at only, PostgreSQL sorted
            # each run of equal times, 6 ms for the count at 100,000).
            models.Index(fields=["-created_at", "-id"], name="opp_created_id"),
            # The lead-source report's won opportunities: every column it reads.
            models.Index(
                fields=[
                    "state",
                    "originating_lead",
                    "currency",
                    "actual_revenue",
                    "estimated_revenue",
                ],
                name="opp_report",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("opportunities:detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.state == self.State.OPEN

    # How crm.records.read_only_message speaks of a closed opportunity.
    reactivate_hint = "reopen it"

    @property
    def inactive_label(self) -> str:
        return f"closed as {self.get_state_display()}"

    @property
    def customer(self):
        """The potential customer: the account when there is one, else the contact."""
        return self.account or self.contact


class StageKey(models.Model):
    """What a board total is kept by: stage, owner and currency (plain ids, no
    foreign key constraints or indexes: the triggers write them on every change
    of an opportunity and nothing looks a total up by one of them alone)."""

    stage = models.ForeignKey(
        "crm.ProcessStage",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    currency = models.ForeignKey(
        "crm.Currency",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )

    class Meta:
        abstract = True


class StageTotal(StageKey):
    """The open opportunities of a stage, owner and currency: how many, and their
    estimated revenue, as of the last fold. With the changes not yet folded
    (StageTotalChange), it gives the board's column totals from a few hundred
    rows instead of every open opportunity (opportunities.stage_totals).
    Opportunities without a stage are not counted."""

    opportunities = models.IntegerField(default=0)
    revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "owner", "currency"], name="stagetotal_one_row_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.opportunities} open at stage {self.stage_id}"


class StageTotalChange(StageKey):
    """One change to a StageTotal, written by the database triggers on the
    opportunity table (every write counts, ORM or not) and folded into the
    totals now and then. Only ever inserted by a write, so writes never wait
    for each other on a total (as they would, and could deadlock, if the
    triggers updated the totals themselves)."""

    id = models.BigAutoField(primary_key=True)
    opportunities = models.IntegerField()
    revenue = models.DecimalField(max_digits=20, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.opportunities:+d} at stage {self.stage_id}"
