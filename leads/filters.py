import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from .models import Lead, LeadSource, Rating


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
    created_after = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="Created from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_before = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="Created to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Lead
        fields = ["q", "status_reason", "lead_source", "rating", "owner"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for term in value.split()[:5]:
            condition &= (
                Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
                | Q(company_name__icontains=term)
                | Q(email__icontains=term)
                | Q(topic__icontains=term)
            )
        return queryset.filter(condition)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
