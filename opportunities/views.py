"""Opportunity pages: list, detail with the stage bar, create/edit, and the
stage, close and reopen actions (POST only).

Views stay thin: they parse a form, call one service from
opportunities.services, and turn its refusal into a form error or a message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from crm.filters import user_label
from crm.http import safe_next
from crm.models import Currency, OrganizationSettings, ProcessStage
from crm.permissions import can_change, can_delete, ensure_can_change, is_manager
from crm.records import read_only_message
from crm.views import (
    Listing,
    delete_view,
    form_page,
    get_for_change,
    list_page,
    steps_view,
    switch_process_view,
)

from . import board, selectors, services
from .exceptions import OpportunityError
from .filters import BoardFilter, OpportunityFilter
from .forms import CloseOpportunityForm, OpportunityForm, OpportunityStepsForm
from .models import Opportunity


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(getattr(exc, "message", exc))


def _money(amount, currency) -> str:
    """'USD 12,500.00', or '' when there is no amount."""
    return "" if amount is None else f"{currency.code} {amount:,.2f}"


def opportunity_list(request: HttpRequest) -> HttpResponse:
    return list_page(
        request,
        OpportunityFilter,
        selectors.opportunity_list(),
        Listing(
            title="Opportunities",
            section="Sales",
            noun="opportunities",
            create_url_name="opportunities:create",
            new_label="New opportunity",
            create_label="Create an opportunity",
            table="opportunities/_opportunity_table.html",
            views=(("Board", "kanban", "opportunities:board"),),
        ),
    )


def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_for_page(pk)
    may_change = can_change(request.user, opportunity)
    context = {
        "opportunity": opportunity,
        "record": opportunity,
        "can_change": may_change,
        "can_delete": can_delete(request.user, opportunity),
        "money": {
            name: _money(getattr(opportunity, name), opportunity.currency)
            for name in ("budget_amount", "estimated_revenue", "actual_revenue")
        },
        "lead_notes": selectors.originating_lead_notes(opportunity),
    }
    if opportunity.is_active and may_change:
        context["won_form"] = CloseOpportunityForm(
            outcome="won",
            auto_id="won_%s",
            initial={"actual_revenue": opportunity.estimated_revenue},
        )
        context["lost_form"] = CloseOpportunityForm(outcome="lost", auto_id="lost_%s")
    return render(request, "opportunities/opportunity_detail.html", context)


def opportunity_create(request: HttpRequest) -> HttpResponse:
    initial = {
        name: request.GET[name]
        for name in ("account", "contact")
        if request.GET.get(name, "").isdigit()
    }
    form = OpportunityForm(request.POST or None, initial=initial, user=request.user)
    save = functools.partial(services.create_opportunity, user=request.user)
    return form_page(request, form, save, "opportunities/opportunity_form.html", done="created")


def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = get_for_change(request, Opportunity, pk)
    if not opportunity.is_active:
        messages.error(request, read_only_message(opportunity))
        return redirect(opportunity)
    form = OpportunityForm(request.POST or None, instance=opportunity, user=request.user)
    save = functools.partial(
        services.update_opportunity, opportunity=opportunity, user=request.user
    )
    return form_page(
        request,
        form,
        save,
        "opportunities/opportunity_form.html",
        done="saved",
        record=opportunity,
        refusals=(OpportunityError,),
        context={"opportunity": opportunity},
    )


def _act(
    request: HttpRequest,
    pk: int,
    service: Callable[..., Opportunity],
    done: Callable[[Opportunity], str],
    **kwargs,
) -> HttpResponse:
    """Run a state-changing service; success or refusal becomes a message."""
    opportunity = get_for_change(request, Opportunity, pk)
    try:
        changed = service(opportunity=opportunity, user=request.user, **kwargs)
    except (OpportunityError, ValidationError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, done(changed))
    return redirect(opportunity)


@require_POST
def next_stage(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.move_to_next_stage, lambda o: f"Moved to stage {o.stage}.")


@require_POST
def previous_stage(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, services.move_to_previous_stage, lambda o: f"Moved back to stage {o.stage}."
    )


@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    form = CloseOpportunityForm(request.POST)
    if not form.is_valid():
        opportunity = get_for_change(request, Opportunity, pk)
        problems = [
            f"{form.fields[name].label}: {' '.join(errors)}"
            if name in form.fields
            else " ".join(errors)
            for name, errors in form.errors.items()
        ]
        messages.error(request, "The opportunity was not closed. " + " ".join(problems))
        return redirect(opportunity)
    return _act(
        request,
        pk,
        services.close_opportunity,
        lambda o: (
            f"Opportunity closed as {o.get_state_display()} ({o.get_status_reason_display()})."
        ),
        won=form.won,
        status_reason=form.cleaned_data["status_reason"],
        actual_revenue=form.cleaned_data["actual_revenue"],
        close_date=form.cleaned_data["close_date"],
    )


@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.reopen_opportunity, lambda o: "Opportunity reopened.")


def opportunity_steps(request: HttpRequest, pk: int, edit: bool = False) -> HttpResponse:
    """The opportunity's active stage's steps on its stage bar, read or (`edit`)
    filled in (htmx)."""
    opportunity = selectors.opportunity_for_page(pk)
    return steps_view(
        request,
        opportunity,
        edit=edit,
        form_class=OpportunityStepsForm,
        editable=services.EDITABLE_FIELDS,
        save=lambda **changes: services.update_opportunity(
            opportunity=opportunity, user=request.user, **changes
        ),
        refusals=(OpportunityError,),
    )


def opportunity_switch_process(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Switch process" on the opportunity's stage bar."""
    opportunity = selectors.opportunity_for_page(pk)
    return switch_process_view(
        request,
        opportunity,
        entity=ProcessStage.Entity.OPPORTUNITY,
        switch=lambda flow: services.switch_process(
            opportunity=opportunity, user=request.user, flow=flow
        ),
        refusals=(OpportunityError,),
    )


def opportunity_board(request: HttpRequest) -> HttpResponse:
    """Open opportunities by stage: a column per stage of the chosen flow, with its
    count, its estimated revenue in the base currency and a page of cards; with
    `column` (and `after`), the next cards of one column (htmx's "show more")."""
    filterset = BoardFilter(
        request.GET or None, queryset=board.open_opportunities(), request=request
    )
    opportunities = filterset.qs
    flows = board.board_flows(request.user)
    filterset.offer_flows(flows)
    flow = board.chosen_flow(flows, filterset.chosen_flow)
    stages = flow.stage_list if flow else []
    column_id = request.GET.get("column", "")
    if column_id.isdigit() and request.GET.get("after", "").isdigit():
        return _more_cards(
            request, opportunities, stages, int(column_id), int(request.GET["after"])
        )
    currencies = list(Currency.objects.all())  # a handful: rates, codes, the filter's choices
    filterset.offer_currencies(currencies)
    columns = board.board(
        opportunities,
        stages,
        currencies={c.pk: c for c in currencies},
        summed=filterset.summed(),
    )
    _prepare_cards(request, columns)
    settings = OrganizationSettings.load()
    return render(
        request,
        "opportunities/board.html",
        {
            "filter": filterset,
            "is_filtered": filterset.is_filtered,
            "columns": columns,
            "stages": stages,
            "flow": flow,
            "base_currency": settings.base_currency,
            "query": _without(request.GET, "column", "after"),
        },
    )


def _without(params, *names: str) -> str:
    kept = params.copy()
    for name in names:
        kept.pop(name, None)
    return kept.urlencode()


def _prepare_cards(request, columns) -> None:
    """What each card links to, whether the user may move it and its amount, close
    date and owner as text: worked out here once per page rather than by tags and
    filters per card (they took two thirds of the board's rendering time)."""
    manager = is_manager(request.user)
    detail = reverse("opportunities:detail", args=[0])
    move = reverse("opportunities:move", args=[0])
    for column in columns:
        for card in column.cards:
            card.url = detail.replace("/0/", f"/{card.pk}/")
            card.movable = manager or card.owner_id == request.user.pk
            card.move_url = move.replace("/0/", f"/{card.pk}/") if card.movable else ""
            card.amount_text = _amount_text(card)
            close = card.estimated_close_date
            card.close_text = f"{close:%b} {close.day}, {close.year}" if close else ""
            card.owner_text = user_label(card.owner)


def _amount_text(card: Opportunity) -> str:
    """ "USD 12,500" (estimated revenue), "Budget USD 12,500" before there is one, or "—"."""
    code = card.currency.code
    if card.estimated_revenue is not None:
        return f"{code} {card.estimated_revenue:,.0f}"
    if card.budget_amount is not None:
        return f"Budget {code} {card.budget_amount:,.0f}"
    return "—"


def _more_cards(request, opportunities, stages, column_id: int, after: int) -> HttpResponse:
    stage = next((s for s in stages if s.pk == column_id), None)
    if stage is None:
        return HttpResponse(status=404)
    per = board.CARDS_PER_COLUMN
    currencies = {c.pk: c for c in Currency.objects.all()}
    found = board.cards(opportunities, [stage.pk], currencies=currencies, after=after)[stage.pk]
    column = board.Column(stage=stage, cards=found[:per])
    if len(found) > per:
        column.more_after = column.cards[-1].pk
    _prepare_cards(request, [column])
    return render(
        request,
        "opportunities/_board_cards.html",
        {
            "column": column,
            "stages": stages,
            "query": _without(request.GET, "column", "after"),
        },
    )


@require_POST
def move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move an opportunity to a stage of its flow (a card dropped on the board, or
    the card's "Move to" form): JSON for the board's script (200, or 409/403 with
    the reason, and the card springs back), else a message and back to the board."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    opportunity = get_object_or_404(Opportunity.objects.select_related("owner"), pk=pk)
    stage_id = request.POST.get("stage", "")
    status, text = 200, ""
    try:
        ensure_can_change(request.user, opportunity)
        if not stage_id.isdigit():
            raise OpportunityError("Choose the stage to move the opportunity to.")
        moved = services.move_to_stage(
            opportunity=opportunity, user=request.user, stage=int(stage_id)
        )
    except PermissionDenied as exc:
        status, text = 403, str(exc) or "You may not change this opportunity."
    except (OpportunityError, ValidationError) as exc:
        status, text = 409, f"“{opportunity}” was not moved: {_error_text(exc)}"
    else:
        text = f"“{moved}” moved to {moved.stage}."
    if wants_json:
        key = "message" if status == 200 else "error"
        return JsonResponse({key: text}, status=status)
    if status == 403:
        raise PermissionDenied(text)
    (messages.success if status == 200 else messages.error)(request, text)
    return redirect(safe_next(request, reverse("opportunities:board")))


opportunity_delete = delete_view(
    Opportunity,
    lambda record, user: services.delete_opportunity(opportunity=record, user=user),
    "opportunities:list",
)
