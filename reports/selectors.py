"""The reports' reads: aggregates, a fixed number of queries each. Money from
several currencies is added up in the base currency, at the current exchange rates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, Func, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.models import OrganizationSettings
from crm.money import base_amount
from leads.models import Lead, LeadSource
from opportunities.models import Opportunity

NO_SOURCE_LABEL = "No source"


@dataclass
class LeadSourceRow:
    """One lead source's figures for the leads created in the report's period."""

    source: str
    label: str
    created: int = 0
    qualified: int = 0
    disqualified: int = 0
    won: int = 0
    # Won value per currency code: actual revenue, or estimated revenue when none.
    won_value: dict[str, Decimal] = field(default_factory=dict)
    # The same, in the order of the report's currencies (zero where none was won).
    won_values: list[Decimal] = field(default_factory=list)
    # All of it in the organisation's base currency, at the current exchange rates.
    won_base: Decimal = Decimal(0)
    avg_days_to_qualify: float | None = None
    # How many qualified leads the average is over (those with a qualified date).
    qualified_timed: int = 0

    @property
    def qualification_rate(self) -> float | None:
        """Qualified leads as a percentage of the leads created; None when none were."""
        return 100 * self.qualified / self.created if self.created else None


@dataclass
class LeadSourceReport:
    start: date
    end: date
    rows: list[LeadSourceRow]
    total: LeadSourceRow
    currencies: list[str]
    # The base currency's code, which won_base is in ("" when none is set).
    base_currency: str = ""


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class Unindexed(Func):
    """A column's value that SQLite's planner does not look up by index (unary +).

    The report's date range covers any share of the leads, up to all of them, and
    SQLite would read it through the `lead_created` index and then every row
    (1.4 s for a million). Kept off that index, it scans the covering
    `lead_report` index instead, in GROUP BY order (about 0.3 s). Elsewhere
    this is the plain column.
    """

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra)


def lead_source_report(*, start: date, end: date) -> LeadSourceReport:
    """Per lead source, the leads created from `start` to `end` (both days included)
    and what became of them. Every source is listed, with zeros when it has no
    leads; leads without a source get a row of their own only when there are some.
    Three queries (with the base currency), whatever the number of leads."""
    # A range of the stored datetime (not `created_at__date`), so the index serves it.
    since, until = _start_of_day(start), _start_of_day(end + timedelta(days=1))
    # One row per source and state, read in the order of the lead_report index
    # (which covers every column used here) without a sort; see docs/PERFORMANCE.md.
    created = Unindexed("created_at")
    lead_figures = (
        Lead.objects.alias(created=created)
        .filter(created__gte=since, created__lt=until)
        .values("lead_source", "state")
        .annotate(
            leads=Count("*"),
            timed=Count("days_to_qualify"),
            avg_days=Avg("days_to_qualify"),
        )
        .order_by("lead_source", "state")
    )
    # From the won opportunities (the opp_report index covers them) to their leads
    # by id; left to itself SQLite would probe every lead of the period instead.
    won_figures = (
        Opportunity.objects.alias(lead_created=Unindexed("originating_lead__created_at"))
        .filter(
            state=Opportunity.State.WON,
            lead_created__gte=since,
            lead_created__lt=until,
        )
        .values("originating_lead__lead_source", "currency__code", "currency__exchange_rate")
        .annotate(won=Count("id"), value=Sum(Coalesce("actual_revenue", "estimated_revenue")))
        .order_by()
    )

    rows = {source: LeadSourceRow(source, label) for source, label in LeadSource.choices}
    for figures in lead_figures:
        source, state = figures["lead_source"], figures["state"]
        row = rows.setdefault(source, LeadSourceRow(source, NO_SOURCE_LABEL))
        row.created += figures["leads"]
        if state == Lead.State.QUALIFIED:
            row.qualified = figures["leads"]
            row.qualified_timed = figures["timed"]
            row.avg_days_to_qualify = figures["avg_days"]
        elif state == Lead.State.DISQUALIFIED:
            row.disqualified = figures["leads"]
    currencies = set()
    for figures in won_figures:
        source = figures["originating_lead__lead_source"]
        row = rows.setdefault(source, LeadSourceRow(source, NO_SOURCE_LABEL))
        code = figures["currency__code"]
        currencies.add(code)
        row.won += figures["won"]
        value = figures["value"] or Decimal(0)
        row.won_value[code] = value
        row.won_base += value / figures["currency__exchange_rate"]

    total = _total(rows.values())
    codes = sorted(currencies)
    for row in [*rows.values(), total]:
        row.won_values = [row.won_value.get(code, Decimal(0)) for code in codes]
        row.won_base = base_amount(row.won_base)
    base = OrganizationSettings.load().base_currency
    return LeadSourceReport(
        start=start,
        end=end,
        rows=list(rows.values()),
        total=total,
        currencies=codes,
        base_currency=base.code if base else "",
    )


def _total(rows) -> LeadSourceRow:
    total = LeadSourceRow("", "Total")
    weighted_days = 0.0
    for row in rows:
        total.created += row.created
        total.qualified += row.qualified
        total.disqualified += row.disqualified
        total.won += row.won
        total.qualified_timed += row.qualified_timed
        if row.avg_days_to_qualify is not None:
            weighted_days += row.avg_days_to_qualify * row.qualified_timed
        for code, value in row.won_value.items():
            total.won_value[code] = total.won_value.get(code, Decimal(0)) + value
        total.won_base += row.won_base
    if total.qualified_timed:
        total.avg_days_to_qualify = weighted_days / total.qualified_timed
    return total
