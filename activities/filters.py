"""The filter bar of My Activities."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import F, QuerySet

from .models import Activity
from .selectors import DUE_CHOICES, due_range

ANY_STATUS = "all"


class ActivityFilter(django_filters.FilterSet):
    """Type, status (open by default), due date and subject search, with a `sort`
    parameter checked against SORTS; unknown sort keys are ignored."""

    SORTS = {
        "due": ("due_at",),
        "subject": ("subject",),
        "type": ("type",),
        "status": ("status",),
        "created": ("created_at",),
    }

    q = django_filters.CharFilter(
        field_name="subject",
        lookup_expr="icontains",
        label="Subject",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search subjects"}),
    )
    type = django_filters.ChoiceFilter(choices=Activity.Type.choices, empty_label="Any type")
    status = django_filters.ChoiceFilter(
        choices=[*Activity.Status.choices, (ANY_STATUS, "Any status")],
        method="filter_status",
        empty_label=None,
    )
    due = django_filters.ChoiceFilter(
        choices=DUE_CHOICES, method="filter_due", empty_label="Any due date", label="Due"
    )
    sort = django_filters.CharFilter(method="apply_sort", widget=forms.HiddenInput)

    class Meta:
        model = Activity
        fields = ["q", "type", "status", "due"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            data = data.copy()
            data.setdefault("status", Activity.Status.OPEN)
        super().__init__(data, *args, **kwargs)
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset if value == ANY_STATUS else queryset.filter(status=value)

    def filter_due(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(due_range(value))

    def apply_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        fields = self.SORTS.get(value.lstrip("-"))
        if not fields:
            return queryset
        return queryset.order_by(*self._ordering(fields, value.startswith("-")), "pk")

    @staticmethod
    def _ordering(fields, descending: bool):
        # Undated activities sort last in either direction.
        return [
            F(f).desc(nulls_last=True) if descending else F(f).asc(nulls_last=True) for f in fields
        ]

    @property
    def qs(self) -> QuerySet:
        qs = super().qs
        if not qs.query.order_by:
            # Soonest due first, undated activities last; pk keeps pages stable.
            qs = qs.order_by(*self._ordering(self.SORTS["due"], False), "pk")
        return qs
