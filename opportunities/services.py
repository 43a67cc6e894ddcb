"""Writes for opportunities."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Contact
from crm import events, process
from crm.history import set_history_user
from crm.models import ProcessFlow, ProcessStage
from crm.permissions import ensure_can_assign, ensure_can_change, ensure_can_delete
from crm.records import read_only_message
from crm.references import check_references
from crm.services import apply_changes, ensure_unchanged
from crm.storage import delete_with_files

from .exceptions import (
    NoSuchStage,
    OpportunityClosed,
    OpportunityNotClosed,
    RequiredStepsMissing,
    StatusReasonNotAllowed,
)
from .models import Opportunity


@transaction.atomic
def create_opportunity(
    *, user: AbstractBaseUser, owner: AbstractBaseUser | None = None, **fields: Any
) -> Opportunity:
    """Create an open opportunity at the first opportunity stage of the default flow.

    Only a manager creates one for another owner (PermissionDenied otherwise).
    """
    ensure_can_assign(user, owner, None, "an opportunity")
    fields = {**fields, "owner": owner}  # the acting user needs no check
    check_references(Opportunity, fields, lock=(Account, Contact))
    fields["owner"] = fields["owner"] or user
    fields.setdefault("stage", process.first_opportunity_stage(user))
    opportunity = Opportunity(**fields)
    opportunity.full_clean()
    set_history_user(opportunity, user)
    opportunity.save()
    events.record_assigned(record=opportunity, owner=opportunity.owner, by=user, what="opportunity")
    events.publish("opportunity.created", opportunity)
    return opportunity


def _lock(opportunity: Opportunity) -> Opportunity:
    return (
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("stage")
        .get(pk=opportunity.pk)
    )


def _require_open(opportunity: Opportunity) -> None:
    if not opportunity.is_active:
        raise OpportunityClosed(read_only_message(opportunity))


def _move(opportunity: Opportunity, user: AbstractBaseUser, step: int) -> Opportunity:
    locked = _lock(opportunity)
    ensure_can_change(user, locked)
    _require_open(locked)
    # Along the opportunity's own flow (its stage's), else the user's.
    stages = list(
        process.stages(ProcessStage.Entity.OPPORTUNITY, stage=locked.stage_id)
        if locked.stage_id is not None
        else process.stages(ProcessStage.Entity.OPPORTUNITY, user=user)
    )
    ids = [s.pk for s in stages]
    current = ids.index(locked.stage_id) if locked.stage_id in ids else -1
    target = current + step
    if not 0 <= target < len(stages):
        word = "last" if step > 0 else "first"
        raise NoSuchStage(f"The opportunity is already at the {word} stage.")
    if step > 0:
        missing = process.missing_steps(locked, locked.stage_id)
        if missing:
            raise RequiredStepsMissing(missing)
    locked.stage = stages[target]
    set_history_user(locked, user)
    locked.save(update_fields=["stage", "modified_at"])
    events.publish("opportunity.stage_changed", locked)
    return locked


@transaction.atomic
def move_to_next_stage(*, opportunity: Opportunity, user: AbstractBaseUser) -> Opportunity:
    """Advance an open opportunity one stage along its process flow.

    Refused with RequiredStepsMissing (naming the steps) while a required step of
    the current stage is empty; at the last stage, with OpportunityError.
    """
    return _move(opportunity, user, +1)


@transaction.atomic
def move_to_previous_stage(*, opportunity: Opportunity, user: AbstractBaseUser) -> Opportunity:
    """Move an open opportunity back one stage (never refused for empty steps)."""
    return _move(opportunity, user, -1)


@transaction.atomic
def move_to_stage(
    *, opportunity: Opportunity, user: AbstractBaseUser, stage: ProcessStage | int
) -> Opportunity:
    """Move an open opportunity to `stage` of its flow (the board's drag and drop):
    one stage at a time through move_to_next_stage / move_to_previous_stage, so
    every stage passed is gated by its required steps, and a refusal anywhere
    changes nothing."""
    target = stage.pk if isinstance(stage, ProcessStage) else stage
    locked = _lock(opportunity)
    ensure_can_change(user, locked)
    _require_open(locked)
    ids = list(
        process.stages(ProcessStage.Entity.OPPORTUNITY, stage=locked.stage_id).values_list(
            "pk", flat=True
        )
    )
    if target not in ids:
        raise NoSuchStage("That stage is not a stage of this opportunity's process flow.")
    current = ids.index(locked.stage_id) if locked.stage_id in ids else -1
    goal = ids.index(target)
    while current != goal:
        step = 1 if goal > current else -1
        locked = _move(locked, user, step)
        current += step
    return locked


@transaction.atomic
def switch_process(
    *, opportunity: Opportunity, user: AbstractBaseUser, flow: ProcessFlow
) -> Opportunity:
    """Switch an open opportunity to another process flow: to the flow's stage of
    the same name, else its first opportunity stage. The step values stay on the
    opportunity (they are its fields)."""
    locked = _lock(opportunity)
    ensure_can_change(user, locked)
    _require_open(locked)
    target = process.stage_after_switch(locked.stage, flow, ProcessStage.Entity.OPPORTUNITY)
    if target is None:
        raise NoSuchStage(f"The process “{flow}” has no stages for opportunities.")
    locked.stage = target
    set_history_user(locked, user)
    locked.save(update_fields=["stage", "modified_at"])
    events.publish("opportunity.stage_changed", locked)
    return locked


@transaction.atomic
def close_opportunity(
    *,
    opportunity: Opportunity,
    user: AbstractBaseUser,
    won: bool,
    status_reason: str | None = None,
    actual_revenue=None,
    close_date=None,
) -> Opportunity:
    """Close an open opportunity as Won or Lost (Canceled or Out-Sold)."""
    locked = _lock(opportunity)
    ensure_can_change(user, locked)
    _require_open(locked)
    state = Opportunity.State.WON if won else Opportunity.State.LOST
    allowed = Opportunity.STATUS_REASONS_BY_STATE[state]
    reason = status_reason or allowed[0]
    if reason not in allowed:
        raise StatusReasonNotAllowed(
            "Choose a status reason for a "
            + ("won" if won else "lost")
            + " opportunity: "
            + ", ".join(Opportunity.StatusReason(r).label for r in allowed)
            + "."
        )
    locked.state = state
    locked.status_reason = reason
    locked.actual_revenue = actual_revenue
    locked.actual_close_date = close_date or timezone.localdate()
    locked.closed_at = timezone.now()
    locked.closed_by = user
    locked.full_clean()
    set_history_user(locked, user)
    locked.save()
    events.publish("opportunity.won" if won else "opportunity.lost", locked)
    return locked


@transaction.atomic
def reopen_opportunity(*, opportunity: Opportunity, user: AbstractBaseUser) -> Opportunity:
    """Reopen a won or lost opportunity as In Progress at the stage it closed at."""
    locked = _lock(opportunity)
    ensure_can_change(user, locked)
    if locked.is_active:
        raise OpportunityNotClosed("This opportunity is already open.")
    locked.state = Opportunity.State.OPEN
    locked.status_reason = Opportunity.StatusReason.IN_PROGRESS
    locked.actual_close_date = None
    locked.closed_at = None
    locked.closed_by = None
    set_history_user(locked, user)
    locked.save()
    events.publish("opportunity.reopened", locked)
    return locked


# Fields a user may change on an open opportunity. Stage, state, status reason
# and the closing fields change only through the stage and close services.
# The business process flow steps (Develop, Propose, Close) an opportunity records.
STEP_FIELDS = (
    "customer_need",
    "proposed_solution",
    "identify_stakeholders",
    "identify_competitors",
    "identify_sales_team",
    "develop_proposal",
    "complete_internal_review",
    "present_proposal",
    "complete_final_proposal",
    "present_final_proposal",
    "final_decision_date",
    "send_thank_you",
    "file_debrief",
)

EDITABLE_FIELDS = frozenset(
    {
        "name",
        "account",
        "contact",
        "currency",
        "budget_amount",
        "estimated_revenue",
        "estimated_close_date",
        "purchase_timeframe",
        "purchase_process",
        "description",
        "owner",
        *STEP_FIELDS,
    }
)


@transaction.atomic
def update_opportunity(
    *,
    opportunity: Opportunity,
    user: AbstractBaseUser,
    expected_modified_at: datetime | None = None,
    **fields: Any,
) -> Opportunity:
    """Change an open opportunity's fields.

    A closed opportunity raises OpportunityError; a user who may not change it,
    PermissionDenied; a version saved by someone else since `expected_modified_at`,
    RecordChanged; invalid data (including a customer that is not exactly one
    account or contact), ValidationError. Each refusal saves nothing.
    """
    locked = _lock(opportunity)
    _require_open(locked)
    ensure_can_change(user, locked)
    ensure_unchanged(locked, expected_modified_at)
    owner_before = locked.owner_id
    apply_changes(locked, fields, EDITABLE_FIELDS, user, lock=(Account, Contact))
    locked.full_clean()
    set_history_user(locked, user)
    locked.save()
    if locked.owner_id != owner_before:
        events.record_assigned(record=locked, owner=locked.owner, by=user, what="opportunity")
    return locked


@transaction.atomic
def delete_opportunity(*, opportunity: Opportunity, user: AbstractBaseUser) -> None:
    """Delete an opportunity with its notes, activities, stakeholders and
    attachment files (removed after the commit). Its originating lead stays,
    with the link cleared."""
    locked = _lock(opportunity)
    ensure_can_delete(user, locked)
    set_history_user(locked, user)
    delete_with_files(locked)
