"""Reads of the business process flow definition used by services and pages."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from .models import ProcessFlow, ProcessStage, ProcessStep


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


def stage_bar_stages(user) -> list[ProcessStage]:
    """Every stage of the default flow, leads' and opportunities', in order,
    each with its flow (`stage.process`) and its steps in order
    (`stage.step_list`): empty when there is no default flow or it is hidden
    from one of the user's roles. One query: the stages joined to their steps."""
    hidden = ProcessFlow.hidden_from_groups.through.objects.filter(
        processflow_id=OuterRef("process_id"), group__user=user
    )
    rows = (
        ProcessStage.objects.filter(process__is_default=True)
        .annotate(hidden=Exists(hidden))
        .order_by("order", "pk", "steps__order", "steps__pk")
        .values(*_STAGE_COLUMNS, "hidden", *(f"steps__{c}" for c in _STEP_COLUMNS))
    )
    stages: dict[int, ProcessStage] = {}
    for row in rows:
        if row["hidden"]:
            return []
        stage = stages.get(row["id"])
        if stage is None:
            stage = ProcessStage(**{c: row[c] for c in _STAGE_COLUMNS if c != "process__name"})
            stage.process = ProcessFlow(pk=row["process_id"], name=row["process__name"])
            stage.step_list = []
            stages[stage.pk] = stage
        if row["steps__id"] is not None:
            stage.step_list.append(
                ProcessStep(stage=stage, **{c: row[f"steps__{c}"] for c in _STEP_COLUMNS})
            )
    return list(stages.values())


_STAGE_COLUMNS = ("id", "name", "entity", "order", "process_id", "process__name")
_STEP_COLUMNS = ("id", "name", "field_name", "is_required", "order")
