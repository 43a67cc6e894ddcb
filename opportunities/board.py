"""The opportunity board: open opportunities by stage of a process flow, each
column with its count and estimated revenue in the base currency and its first
page of cards.

Whatever the number of opportunities, a board is three queries: the flow's
stages, one aggregate for every column's count and total (grouped by stage and
currency, over the partial index of open opportunities, then converted at the
current rates), and one query for every column's cards (a UNION ALL of one
index range scan per stage, each LIMITed to a page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum

from crm import process
from crm.db import pks_sql, union_all
from crm.models import ProcessStage

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


def board_stages(*, flow: int | None, user) -> list[ProcessStage]:
    """The columns: the opportunity stages of `flow`, else of the user's flow."""
    entity = ProcessStage.Entity.OPPORTUNITY
    rows = process.stages(entity, flow=flow) if flow else process.stages(entity, user=user)
    return list(rows.select_related("process"))


def cards(
    opportunities: QuerySet[Opportunity],
    stage_ids: list[int],
    *,
    after: int | None = None,
    per_column: int = CARDS_PER_COLUMN,
) -> dict[int, list[Opportunity]]:
    """Up to `per_column` + 1 cards of each stage (newest first, past `after`), by
    stage id; one query."""
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
        .select_related("account", "contact", "owner", "currency")
        .order_by("-pk")
    )
    for card in rows:
        # The card's estimated revenue in the base currency: the board's script
        # moves it from one column's total to another's on a drop.
        revenue = card.estimated_revenue
        card.base_revenue = None if revenue is None else revenue / card.currency.exchange_rate
        by_stage[card.stage_id].append(card)
    return by_stage


def board(
    opportunities: QuerySet[Opportunity],
    stages: list[ProcessStage],
    *,
    rates: dict[int, Decimal],
    per_column: int = CARDS_PER_COLUMN,
) -> list[Column]:
    """The columns of `stages` for the open `opportunities` (already filtered):
    counts and totals (in the base currency, at `rates`: a currency id's units
    per base unit) from one aggregate query, and each column's first cards."""
    columns = {stage.pk: Column(stage=stage) for stage in stages}
    figures = (
        opportunities.filter(stage_id__in=list(columns))
        .values("stage_id", "currency_id")
        .annotate(count=Count("*"), total=Sum("estimated_revenue"))
        .order_by()
    )
    for row in figures:
        column = columns[row["stage_id"]]
        column.count += row["count"]
        if row["total"] is not None:
            column.total += Decimal(row["total"]) / rates.get(row["currency_id"], Decimal(1))
    for stage_id, stage_cards in cards(opportunities, list(columns), per_column=per_column).items():
        column = columns[stage_id]
        column.cards = stage_cards[:per_column]
        if len(stage_cards) > per_column:
            column.more_after = column.cards[-1].pk
    for column in columns.values():
        column.total = column.total.quantize(Decimal("0.01"))
    return list(columns.values())


def exchange_rates(currencies) -> dict[int, Decimal]:
    """Each currency's rate by id."""
    return {c.pk: c.exchange_rate for c in currencies}
