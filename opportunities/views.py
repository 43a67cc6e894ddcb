"""Opportunity pages: list, detail with the stage bar, create/edit, and the
stage, close and reopen actions (POST only).

Views stay thin: they parse a form, call one service from
opportunities.services, and turn its refusal into a form error or a message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from crm.permissions import can_change, can_delete
from crm.records import read_only_message
from crm.views import Listing, delete_view, form_page, get_for_change, list_page

from . import selectors, services
from .exceptions import OpportunityError
from .filters import OpportunityFilter
from .forms import CloseOpportunityForm, OpportunityForm
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
        # Read by the stage_bar tag: Next/Previous stage buttons.
        "can_move_stage": opportunity.is_active and may_change,
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


opportunity_delete = delete_view(
    Opportunity,
    lambda record, user: services.delete_opportunity(opportunity=record, user=user),
    "opportunities:list",
)
