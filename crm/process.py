"""Reads of the business process flow definition used by services and pages."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ProcessFlow, ProcessStage


def _stages(entity: str) -> list[ProcessStage]:
    flow = ProcessFlow.default()
    if flow is None:
        return []
    return list(flow.stages.filter(entity=entity).order_by("order", "pk"))


def default_flow_stages(entity: str) -> QuerySet[ProcessStage]:
    """The default flow's stages for leads or opportunities, in order, as one
    query (the default flow is unique by constraint): services read the first
    on every create, qualify and reactivate."""
    return ProcessStage.objects.filter(process__is_default=True, entity=entity).order_by(
        "order", "pk"
    )


def _first_stage(entity: str) -> ProcessStage | None:
    return default_flow_stages(entity).first()


def first_lead_stage() -> ProcessStage | None:
    """The stage a lead sits at until it is qualified (Qualify in the default flow)."""
    return _first_stage(ProcessStage.Entity.LEAD)


def first_opportunity_stage() -> ProcessStage | None:
    """The stage a new opportunity starts at (Develop in the default flow)."""
    return _first_stage(ProcessStage.Entity.OPPORTUNITY)


def opportunity_stages() -> list[ProcessStage]:
    return _stages(ProcessStage.Entity.OPPORTUNITY)
