"""What the business process flow's stage bar shows for a lead or an opportunity,
for the page (the `stage_bar` tag) and for the fragments htmx swaps into it (the
steps, read-only or as a form). One query for the flow, its stages and steps.

A lead sits at its lead stage (Qualify). Once qualified into an opportunity, its
process runs on in the opportunity: the lead's bar shows where the opportunity
stands now. An opportunity shows the same bar with the lead stages done (linking
back to its originating lead) and its own stage active.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.urls import NoReverseMatch, reverse

from . import process
from .models import ProcessStage, ProcessStep


def step_value(record, field_name: str):
    """A step's value as the bar shows it (a choice's label, Yes/No for a box)."""
    if not field_name or not hasattr(record, field_name):
        return None
    found = record._meta.get_field(field_name)
    value = getattr(record, field_name)
    if found.choices and value:
        return getattr(record, f"get_{field_name}_display")()
    if isinstance(found, models.BooleanField):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        return f"{value:,.{found.decimal_places}f}"
    return value


@dataclass
class Step:
    step: ProcessStep
    value: Any
    missing: bool  # required and not filled in


@dataclass
class StageBar:
    """The bar of `record`: `visible` False when there is no flow for the user."""

    record: Any
    visible: bool = False
    flow: Any = None
    items: list[dict] = field(default_factory=list)
    active: ProcessStage | None = None
    step_stage: ProcessStage | None = None
    steps: list[Step] = field(default_factory=list)
    is_lead: bool = False
    is_first: bool = True
    is_last: bool = True
    # Whether the user may fill in the steps, move the stage and switch the flow.
    can_edit: bool = False
    can_switch: bool = False

    @property
    def editable_steps(self) -> list[Step]:
        return [s for s in self.steps if s.step.field_name]

    def url(self, name: str) -> str:
        """The record app's `name` URL for this record ('' when it has none)."""
        try:
            return reverse(f"{self.record._meta.app_label}:{name}", args=[self.record.pk])
        except NoReverseMatch:
            return ""

    @property
    def steps_url(self) -> str:
        return self.url("steps")

    @property
    def edit_steps_url(self) -> str:
        return self.url("edit_steps")

    @property
    def switch_url(self) -> str:
        return self.url("switch_process")

    @property
    def dom_id(self) -> str:
        return f"stage-steps-{self.record._meta.model_name}-{self.record.pk}"


def stage_bar(record, user, *, can_change: bool) -> StageBar:
    """The stage bar of `record` for `user`, who may change the record or not."""
    is_lead = record._meta.model_name == "lead"
    entity = ProcessStage.Entity.LEAD if is_lead else ProcessStage.Entity.OPPORTUNITY
    opportunity = None
    if is_lead and record.qualified_opportunity_id is not None:
        opportunity = record.qualified_opportunity  # prefetched with the lead
    live_stage_id = opportunity.stage_id if opportunity is not None else record.stage_id
    stages = process.stage_bar_stages(user, stage_id=live_stage_id or record.stage_id)
    bar = StageBar(record=record, is_lead=is_lead)
    if not stages:
        return bar
    own = [i for i, s in enumerate(stages) if s.entity == entity] or [0]
    index = next((i for i, s in enumerate(stages) if s.pk == live_stage_id), own[0])
    originating = None if is_lead else getattr(record, "originating_lead", None)

    def link(stage: ProcessStage) -> tuple[str, str] | None:
        if originating is not None and stage.entity == ProcessStage.Entity.LEAD:
            return originating.get_absolute_url(), "Open the originating lead"
        if opportunity is not None and stage.entity == ProcessStage.Entity.OPPORTUNITY:
            return opportunity.get_absolute_url(), "Open the opportunity"
        return None

    bar.items = [
        {
            "stage": stage,
            "done": i < index,
            "active": i == index,
            "link": link(stage),
        }
        for i, stage in enumerate(stages)
    ]
    bar.visible = True
    bar.flow = stages[0].process
    bar.active = stages[index]
    # The steps shown are the record's own stage's: a lead's Qualify steps stay on
    # the lead, read-only, once its opportunity has moved on.
    own_stage = next((s for s in stages if s.pk == record.stage_id), None)
    if own_stage is None or own_stage.entity != entity:
        own_stage = stages[max((i for i in own if i <= index), default=own[0])]
    bar.step_stage = own_stage
    bar.steps = [
        Step(
            step=step,
            value=step_value(record, step.field_name),
            missing=step.is_required
            and bool(step.field_name)
            and not process.step_is_filled(getattr(record, step.field_name, None)),
        )
        for step in own_stage.step_list
    ]
    bar.can_edit = can_change and record.is_active
    bar.can_switch = bar.can_edit and bar.flow.other_flows
    bar.is_first = index <= own[0]
    bar.is_last = index == len(stages) - 1
    return bar
