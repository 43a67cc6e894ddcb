"""Reads of the business process flow definition used by services and pages.

Several flows may exist. The organisation's flow is the one marked default; a
role may have a flow of its own (`ProcessFlow.default_for_groups`), which the
records its members create follow. A record's flow is its stage's flow, so a
record keeps its flow until someone switches it; an opportunity qualified from
a lead continues the lead's flow: one process from lead to opportunity.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value

from .models import ProcessFlow, ProcessStage, ProcessStep


def user_flow(user=None) -> QuerySet[ProcessFlow]:
    """The flow new records of `user` follow, as a one-row query of its id: the
    first (by name) flow that is the default of one of the user's roles, else the
    organisation's default flow. None (an import, a web form): the default."""
    flows = ProcessFlow.objects.all()
    if user is not None and getattr(user, "pk", None) is not None:
        for_role = ProcessFlow.default_for_groups.through.objects.filter(
            processflow_id=OuterRef("pk"), group__user=user
        )
        flows = flows.annotate(for_role=Exists(for_role)).filter(
            Q(for_role=True) | Q(is_default=True)
        )
        return flows.order_by("-for_role", "name").values("pk")[:1]
    return flows.filter(is_default=True).values("pk")[:1]


def stages(
    entity: str, *, flow: int | None = None, stage: int | None = None, user=None
) -> QuerySet[ProcessStage]:
    """The stages for `entity` (leads' or opportunities') in order, of `flow` (an
    id), else of the flow of `stage` (an id), else of the user's flow: one query."""
    if flow is not None:
        rows = ProcessStage.objects.filter(process_id=flow)
    elif stage is not None:
        of_stage = ProcessStage.objects.filter(pk=stage).values("process_id")[:1]
        rows = ProcessStage.objects.filter(process_id=Subquery(of_stage))
    else:
        rows = ProcessStage.objects.filter(process_id=Subquery(user_flow(user)))
    return rows.filter(entity=entity).order_by("order", "pk")


def default_flow_stages(entity: str) -> QuerySet[ProcessStage]:
    """The organisation's default flow's stages for leads or opportunities, in
    order, as one query (the default flow is unique by constraint)."""
    return ProcessStage.objects.filter(process__is_default=True, entity=entity).order_by(
        "order", "pk"
    )


def first_stage(entity: str, *, stage: int | None = None, user=None) -> ProcessStage | None:
    """Where a record of `entity` starts: the first stage of the flow of `stage`
    when that flow has stages for it, else of the user's flow."""
    if stage is not None:
        found = stages(entity, stage=stage).first()
        if found is not None:
            return found
    return stages(entity, user=user).first()


def first_lead_stage(user=None) -> ProcessStage | None:
    """The stage a new lead of `user` sits at until it is qualified (Qualify)."""
    return first_stage(ProcessStage.Entity.LEAD, user=user)


def first_opportunity_stage(user=None) -> ProcessStage | None:
    """The stage a new opportunity of `user` starts at (Develop)."""
    return first_stage(ProcessStage.Entity.OPPORTUNITY, user=user)


@dataclass
class FlowMap:
    """Every flow's stages as ids, read in one query for a service that places
    many records (a bulk qualify): which flow a stage is in, where each flow
    starts for leads and for opportunities, which stages have a required step,
    and the user's flow (see user_flow)."""

    flow_of: dict[int, int]
    starts: dict[tuple[int, str], int]
    gated: frozenset[int]
    users_flow: int | None

    @classmethod
    def read(cls, user=None) -> FlowMap:
        for_role = Value(False)
        if getattr(user, "pk", None) is not None:
            for_role = Exists(
                ProcessFlow.default_for_groups.through.objects.filter(
                    processflow_id=OuterRef("process_id"), group__user=user
                )
            )
        required = ProcessStep.objects.filter(stage_id=OuterRef("pk"), is_required=True)
        rows = (
            ProcessStage.objects.annotate(
                for_role=for_role,
                gated=Exists(required),
            )
            .order_by("process__name", "process_id", "order", "pk")
            .values_list("pk", "process_id", "entity", "process__is_default", "for_role", "gated")
        )
        flow_of, starts, gated = {}, {}, set()
        role_flow = default_flow = None
        for pk, flow, entity, is_default, for_role, has_required in rows:
            flow_of[pk] = flow
            starts.setdefault((flow, entity), pk)
            if has_required:
                gated.add(pk)
            if for_role and role_flow is None:
                role_flow = flow
            if is_default:
                default_flow = flow
        return cls(flow_of, starts, frozenset(gated), role_flow or default_flow)

    def first_stage(self, entity: str, *, stage: int | None = None) -> int | None:
        """first_stage() from the map: the first `entity` stage of the flow of
        `stage`, else of the user's flow."""
        flow = self.flow_of.get(stage) if stage is not None else None
        found = self.starts.get((flow, entity)) if flow is not None else None
        return found or self.starts.get((self.users_flow, entity))


def opportunity_stages() -> list[ProcessStage]:
    """The default flow's opportunity stages, in order."""
    return list(default_flow_stages(ProcessStage.Entity.OPPORTUNITY))


def flows_for(entity: str) -> QuerySet[ProcessFlow]:
    """The flows a record of `entity` can be switched to: those with stages for it."""
    return ProcessFlow.objects.filter(
        Exists(ProcessStage.objects.filter(process_id=OuterRef("pk"), entity=entity))
    ).order_by("name")


def stage_after_switch(current: ProcessStage | None, flow: ProcessFlow, entity: str):
    """The stage a record at `current` moves to when switched to `flow`: the
    flow's stage of the same name when it has one (the work done carries over),
    else its first stage for the record. None when the flow has no stage for it."""
    candidates = list(stages(entity, flow=flow.pk))
    if current is not None:
        same = [s for s in candidates if s.name.casefold() == current.name.casefold()]
        if same:
            return same[0]
    return candidates[0] if candidates else None


def step_is_filled(value) -> bool:
    """Whether a step's field counts as filled in: a value, or a ticked box."""
    return value not in (None, "", False)


def missing_steps(record, stage_id: int | None) -> list[str]:
    """The names of the required steps of `stage_id` that `record` has not filled."""
    if stage_id is None:
        return []
    required = ProcessStep.objects.filter(stage_id=stage_id, is_required=True).order_by(
        "order", "pk"
    )
    return [
        step.name
        for step in required
        if step.field_name
        and hasattr(record, step.field_name)
        and not step_is_filled(getattr(record, step.field_name))
    ]


def stage_bar_stages(user, *, stage_id: int | None = None) -> list[ProcessStage]:
    """Every stage of the flow of `stage_id` (else the user's flow), leads' and
    opportunities', in order, each with its flow (`stage.process`, with
    `other_flows`: whether there is another flow to switch to) and its steps in
    order (`stage.step_list`): empty when there is no such flow or it is hidden
    from one of the user's roles. One query: every flow's stages joined to
    their steps (a few dozen rows), the flow picked here rather than by
    subqueries, which took longer to build than the query took to run."""
    hidden = ProcessFlow.hidden_from_groups.through.objects.filter(
        processflow_id=OuterRef("process_id"), group__user=user
    )
    for_role = ProcessFlow.default_for_groups.through.objects.filter(
        processflow_id=OuterRef("process_id"), group__user=user
    )
    rows = (
        ProcessStage.objects.annotate(hidden=Exists(hidden), for_role=Exists(for_role))
        .order_by("process__name", "process_id", "order", "pk", "steps__order", "steps__pk")
        .values(
            *_STAGE_COLUMNS,
            "process__is_default",
            "hidden",
            "for_role",
            *(f"steps__{c}" for c in _STEP_COLUMNS),
        )
    )
    flows: dict[int, dict[int, ProcessStage]] = {}
    hidden_flows, default_flow, role_flow, stage_flow = set(), None, None, None
    for row in rows:
        flow_id = row["process_id"]
        stages = flows.setdefault(flow_id, {})
        if row["hidden"]:
            hidden_flows.add(flow_id)
        if row["process__is_default"]:
            default_flow = flow_id
        if row["for_role"] and role_flow is None:
            role_flow = flow_id
        if row["id"] == stage_id:
            stage_flow = flow_id
        stage = stages.get(row["id"])
        if stage is None:
            stage = ProcessStage(**{c: row[c] for c in _STAGE_COLUMNS if c != "process__name"})
            stage.process = ProcessFlow(pk=flow_id, name=row["process__name"])
            stage.step_list = []
            stages[stage.pk] = stage
        if row["steps__id"] is not None:
            stage.step_list.append(
                ProcessStep(stage=stage, **{c: row[f"steps__{c}"] for c in _STEP_COLUMNS})
            )
    chosen = stage_flow or role_flow or default_flow
    if chosen is None or chosen in hidden_flows:
        return []
    found = sorted(flows[chosen].values(), key=lambda s: (s.order, s.pk))
    for stage in found:
        stage.process.other_flows = len(flows) > 1
    return found


_STAGE_COLUMNS = ("id", "name", "entity", "order", "process_id", "process__name")
_STEP_COLUMNS = ("id", "name", "field_name", "is_required", "order")
