from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from .listing.search import search_leads
from .models import Lead, LeadSource, Rating


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _created_from(day: date) -> Q:
    return Q(created_at__gte=_start_of_day(day))


def _created_to(day: date) -> Q:
    if day >= date.max:
        return Q()
    return Q(created_at__lt=_start_of_day(day + timedelta(days=1)))


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Name, company, email or topic"}),
    )
    status_reason = django_filters.ChoiceFilter(
        choices=Lead.StatusReason.choices, label="Status reason", empty_label="Any status"
    )
    lead_source = django_filters.ChoiceFilter(
        choices=LeadSource.choices, label="Lead source", empty_label="Any source"
    )
    rating = django_filters.ChoiceFilter(
        choices=Rating.choices, label="Rating", empty_label="Any rating"
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.filter(is_active=True).order_by("first_name"),
        label="Owner",
        empty_label="Any owner",
    )
    # Compared as a range of the stored datetime, not with `created_at__date`:
    # casting each row to a date cannot use the created_at index.
    created_after = django_filters.DateFilter(
        method="created_from",
        label="Created from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_before = django_filters.DateFilter(
        method="created_to",
        label="Created to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Lead
        fields = ["q", "status_reason", "lead_source", "rating", "owner"]

    def narrowing(self) -> list[Q]:
        """The chosen filters that may leave only a few leads (see leads.listing.lead_page)."""
        if not self.is_bound or not self.form.is_valid():
            return []
        data = self.form.cleaned_data
        narrowing = []
        if data.get("owner"):
            narrowing.append(Q(owner=data["owner"]))
        if data.get("created_after") or data.get("created_before"):
            # One range: each end alone may match most leads, the two together few.
            narrowing.append(
                _created_from(data["created_after"] or date.min)
                & _created_to(data["created_before"] or date.max)
            )
        return narrowing

    def search(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        return search_leads(queryset, value)

    def created_from(self, queryset: QuerySet[Lead], name: str, value: date) -> QuerySet[Lead]:
        return queryset.filter(_created_from(value))

    def created_to(self, queryset: QuerySet[Lead], name: str, value: date) -> QuerySet[Lead]:
        return queryset.filter(_created_to(value))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
