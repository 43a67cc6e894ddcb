"""Reads of the business process flow definition used by services and pages."""

from __future__ import annotations

from .models import ProcessFlow, ProcessStage


def _stages(entity: str) -> list[ProcessStage]:
    flow = ProcessFlow.default()
    if flow is None:
        return []
    return list(flow.stages.filter(entity=entity).order_by("order", "pk"))


def first_lead_stage() -> ProcessStage | None:
    """The stage a lead sits at until it is qualified (Qualify in the default flow)."""
    stages = _stages(ProcessStage.Entity.LEAD)
    return stages[0] if stages else None


def first_opportunity_stage() -> ProcessStage | None:
    """The stage a new opportunity starts at (Develop in the default flow)."""
    stages = _stages(ProcessStage.Entity.OPPORTUNITY)
    return stages[0] if stages else None


def opportunity_stages() -> list[ProcessStage]:
    return _stages(ProcessStage.Entity.OPPORTUNITY)
