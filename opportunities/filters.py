"""Filter bar of the opportunity list."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from crm import process
from crm.filters import SortableFilterSet, search_terms
from crm.models import Currency, ProcessFlow, ProcessStage

from .models import Opportunity


def opportunity_stages(request=None) -> QuerySet[ProcessStage]:
    """Every flow's opportunity stages: the default flow's first, then the others'."""
    return (
        ProcessStage.objects.filter(entity=ProcessStage.Entity.OPPORTUNITY)
        .select_related("process")
        .order_by("-process__is_default", "process__name", "order", "pk")
    )


def stage_label(stage: ProcessStage) -> str:
    """A stage named with its flow when it is not the default flow's."""
    return stage.name if stage.process.is_default else f"{stage.name} ({stage.process.name})"


class OpportunityFilterFields(SortableFilterSet):
    """The filters the opportunity list and the board share: search, owner, my
    opportunities, currency and an estimated close date range."""

    SEARCH_HINT = "Topic, customer or contact"

    mine = django_filters.BooleanFilter(
        method="only_mine",
        label="My opportunities",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    close_after = django_filters.DateFilter(
        field_name="estimated_close_date",
        lookup_expr="gte",
        label="Closing from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    close_before = django_filters.DateFilter(
        field_name="estimated_close_date",
        lookup_expr="lte",
        label="Closing to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    currency = django_filters.ModelChoiceFilter(
        queryset=Currency.objects.filter(is_active=True), empty_label="Any currency"
    )

    def search(self, queryset, name, value):
        for term in search_terms(value):
            queryset = queryset.filter(
                Q(name__icontains=term)
                | Q(account__name__icontains=term)
                | Q(contact__first_name__icontains=term)
                | Q(contact__last_name__icontains=term)
            )
        return queryset

    def only_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return queryset
        return queryset.filter(owner_id=user.pk)


class OpportunityFilter(OpportunityFilterFields):
    SORTS = {
        "name": ("name",),
        "customer": ("account__name", "contact__last_name", "contact__first_name"),
        "contact": ("contact__last_name", "contact__first_name"),
        "revenue": ("estimated_revenue",),
        "close_date": ("estimated_close_date",),
        "stage": ("stage__order",),
        "state": ("state", "status_reason"),
        "owner": ("owner__first_name", "owner__last_name"),
        "created": ("created_at",),
    }

    state = django_filters.ChoiceFilter(choices=Opportunity.State.choices, empty_label="Any status")
    stage = django_filters.ModelChoiceFilter(queryset=opportunity_stages, empty_label="Any stage")

    class Meta:
        model = Opportunity
        fields = ["q", "state", "stage", "currency", "owner", "mine", "close_after", "close_before"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["stage"].label_from_instance = stage_label


def board_flows(request=None) -> QuerySet[ProcessFlow]:
    return process.flows_for(ProcessStage.Entity.OPPORTUNITY)


class BoardFilter(OpportunityFilterFields):
    """The board's filters: the list's (but state and stage, which the board's
    columns are) and the process flow whose stages are the columns."""

    flow = django_filters.ModelChoiceFilter(
        queryset=board_flows, method="keep", label="Process", empty_label="My process"
    )

    class Meta:
        model = Opportunity
        fields = ["q", "owner", "mine", "close_after", "close_before", "currency", "flow"]

    def keep(self, queryset, name, value):
        return queryset  # the view picks the columns with it

    def offer_currencies(self, currencies) -> None:
        """Offer the active ones of `currencies` (already read) in the currency
        filter, instead of reading them again to render it."""
        self.form.fields["currency"].widget.choices = [("", "Any currency")] + [
            (c.pk, c.code) for c in currencies if c.is_active
        ]

    def offer_flows(self, flows) -> None:
        """Offer `flows` (already read) in the flow filter, when there is a choice."""
        field = self.form.fields["flow"]
        if len(flows) < 2:
            field.widget = forms.HiddenInput()
        else:
            field.widget.choices = [("", "My process")] + [(f.pk, f.name) for f in flows]

    def summed(self) -> dict | None:
        """The filters as StageTotal fields ({} for none), when the totals the
        triggers keep can answer them (owner, my opportunities, currency); None
        when a filter needs the opportunities themselves (search, close dates)."""
        if not self.is_bound:
            return {}
        if not self.form.is_valid():
            return None
        data = self.form.cleaned_data
        if data.get("q") or data.get("close_after") or data.get("close_before"):
            return None
        owners = set()
        if data.get("owner"):
            owners.add(data["owner"].pk)
        if data.get("mine"):
            owners.add(self.request.user.pk)
        fields: dict = {}
        if owners:
            # Both an owner and "mine": only when they are the same user.
            fields["owner_id__in"] = list(owners) if len(owners) == 1 else []
        if data.get("currency"):
            fields["currency_id"] = data["currency"].pk
        return fields

    @property
    def chosen_flow(self):
        return self.form.cleaned_data.get("flow") if self.form.is_valid() else None
