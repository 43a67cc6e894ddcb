"""The opportunity board: open opportunities by stage of a process flow, each
column with its count and estimated revenue in the base currency and its first
page of cards.

Whatever the number of opportunities, a board is three queries: the flows and
their stages, one aggregate for every column's count and total (over the totals
per stage, owner and currency that database triggers keep, see StageTotal;
over the matching opportunities when a filter needs them), and one query for
every column's cards (a UNION ALL of one index range scan per stage, each
LIMITed to a page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum

from crm.db import pks_sql, union_all
from crm.models import Currency, ProcessFlow, ProcessStage

from . import stage_totals
from .models import Opportunity

CARDS_PER_COLUMN = 20


@dataclass
class Column:
    stage: ProcessStage
    count: int = 0
    total: Decimal = Decimal(0)  # estimated revenue, in the base currency
    cards: list[Opportunity] = field(default_factory=list)
    # The pk to continue after ("show more"), None when every card is shown.
    more_after: int | None = None


def open_opportunities() -> QuerySet[Opportunity]:
    return Opportunity.objects.filter(state=Opportunity.State.OPEN)


def board_flows(user) -> list[ProcessFlow]:
    """Every flow with opportunity stages, by name, each with its stages in order
    (`stage_list`) and whether it is the default of one of the user's roles
    (`for_role`): one query, for the columns and the board's choice of flow."""
    for_role = ProcessFlow.default_for_groups.through.objects.filter(
        processflow_id=OuterRef("process_id"), group__user=user
    )
    rows = (
        ProcessStage.objects.filter(entity=ProcessStage.Entity.OPPORTUNITY)
        .select_related("process")
        .annotate(for_role=Exists(for_role))
        .order_by("process__name", "process_id", "order", "pk")
    )
    flows: dict[int, ProcessFlow] = {}
    for stage in rows:
        flow = flows.setdefault(stage.process_id, stage.process)
        flow.for_role = stage.for_role
        flow.__dict__.setdefault("stage_list", []).append(stage)
    return list(flows.values())


def chosen_flow(flows: list[ProcessFlow], chosen: ProcessFlow | None) -> ProcessFlow | None:
    """The flow whose stages are the columns: the one chosen, else the user's
    role's (the first by name), else the organisation's default (as crm.process
    picks the flow of a new record)."""
    by_pk = {flow.pk: flow for flow in flows}
    if chosen is not None and chosen.pk in by_pk:
        return by_pk[chosen.pk]
    return next((f for f in flows if f.for_role), None) or next(
        (f for f in flows if f.is_default), None
    )


def cards(
    opportunities: QuerySet[Opportunity],
    stage_ids: list[int],
    *,
    currencies: dict[int, Currency],
    after: int | None = None,
    per_column: int = CARDS_PER_COLUMN,
) -> dict[int, list[Opportunity]]:
    """Up to `per_column` + 1 cards of each stage (newest first, past `after`), by
    stage id; one query, joined to the account, contact and owner (each card's
    currency is taken from `currencies`, all of them by id: joining it too made
    PostgreSQL's planning of the join cost more than the query)."""
    parts = []
    for stage_id in stage_ids:
        part = opportunities.filter(stage_id=stage_id)
        if after is not None:
            part = part.filter(pk__lt=after)
        found = pks_sql(part.order_by("-pk")[: per_column + 1])
        if found is not None:
            parts.append(found)
    pks = union_all(parts)
    by_stage: dict[int, list[Opportunity]] = {stage_id: [] for stage_id in stage_ids}
    if pks is None:
        return by_stage
    rows = (
        Opportunity.objects.filter(pk__in=pks)
        .select_related("account", "contact", "owner")
        .order_by("-pk")
    )
    for card in rows:
        card.currency = currencies[card.currency_id]
        # The card's estimated revenue in the base currency: the board's script
        # moves it from one column's total to another's on a drop.
        revenue = card.estimated_revenue
        card.base_revenue = None if revenue is None else revenue / card.currency.exchange_rate
        by_stage[card.stage_id].append(card)
    return by_stage


def column_totals(
    opportunities: QuerySet[Opportunity],
    stage_ids: list[int],
    *,
    rates: dict[int, Decimal],
    summed: dict | None,
) -> dict[int, tuple[int, Decimal]]:
    """Each stage's open opportunities: how many, and their estimated revenue in
    the base currency (at `rates`, a currency id's units per base unit).

    With `summed` (the filters as StageTotal fields: owner, currency; {} for
    none), from the totals the triggers keep (opportunities.stage_totals): a
    few rows per stage, whatever the number of opportunities (folding the
    changes into the totals once they pile up). Other filters (a close date
    range, a search) need the opportunities themselves: one aggregate over
    those that match."""
    totals = {stage_id: (0, Decimal(0)) for stage_id in stage_ids}
    if summed is not None:
        found, changes = stage_totals.totals(stage_ids, **summed)
        if changes > stage_totals.FOLD_AFTER:
            stage_totals.fold()
        rows = [
            {"stage_id": stage, "currency_id": currency, "count": count, "total": revenue}
            for (stage, currency), (count, revenue) in found.items()
        ]
    else:
        rows = (
            opportunities.filter(stage_id__in=stage_ids)
            .values("stage_id", "currency_id")
            .annotate(count=Count("*"), total=Sum("estimated_revenue"))
            .order_by()
        )
    for row in rows:
        count, total = totals[row["stage_id"]]
        revenue = Decimal(str(row["total"] or 0)) / rates.get(row["currency_id"], Decimal(1))
        totals[row["stage_id"]] = (count + row["count"], total + revenue)
    return totals


def board(
    opportunities: QuerySet[Opportunity],
    stages: list[ProcessStage],
    *,
    currencies: dict[int, Currency],
    summed: dict | None = None,
    per_column: int = CARDS_PER_COLUMN,
) -> list[Column]:
    """The columns of `stages` for the open `opportunities` (already filtered):
    counts and totals in the base currency (column_totals: one query) and each
    column's first cards (cards: one query). `currencies`: every one, by id."""
    ids = [stage.pk for stage in stages]
    rates = {pk: currency.exchange_rate for pk, currency in currencies.items()}
    totals = column_totals(opportunities, ids, rates=rates, summed=summed)
    found = cards(opportunities, ids, currencies=currencies, per_column=per_column)
    columns = []
    for stage in stages:
        count, total = totals[stage.pk]
        column = Column(stage=stage, count=count, total=total.quantize(Decimal("0.01")))
        column.cards = found[stage.pk][:per_column]
        if len(found[stage.pk]) > per_column:
            column.more_after = column.cards[-1].pk
        columns.append(column)
    return columns
