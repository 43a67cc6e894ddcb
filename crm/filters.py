"""Filter bars shared by every list: a free-text search, an owner filter, a sort."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet


def user_label(user) -> str:
    return user.get_full_name() or user.get_username()


def owner_choices(request=None) -> QuerySet:
    """Active users, by name; django-filter passes the request, which is not needed."""
    return get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name")


class SortableFilterSet(django_filters.FilterSet):
    """A FilterSet with a free-text search `q`, an owner filter and a `sort`
    parameter checked against `SORTS` (key -> order_by fields); a descending
    sort is the key with a leading '-'. Unknown sort keys are ignored."""

    SORTS: dict[str, tuple[str, ...]] = {}
    SEARCH_HINT = "Search"

    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    owner = django_filters.ModelChoiceFilter(queryset=owner_choices, empty_label="Any owner")
    sort = django_filters.CharFilter(method="apply_sort", widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["owner"].label_from_instance = user_label
        self.form.fields["q"].widget.attrs["placeholder"] = self.SEARCH_HINT
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        raise NotImplementedError

    def apply_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        descending = value.startswith("-")
        fields = self.SORTS.get(value.lstrip("-"))
        if not fields:
            return queryset
        return queryset.order_by(*(f"-{f}" if descending else f for f in fields), "-pk")

    @property
    def is_filtered(self) -> bool:
        """Whether any filter (not only the sort) narrows the list."""
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return any(value not in (None, "") for key, value in data.items() if key != "sort")


def search_terms(value: str) -> list[str]:
    # A handful of words is plenty to narrow a list, and keeps the query small.
    return value.split()[:5]
