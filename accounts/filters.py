"""Filter bars of the account and contact lists."""

from __future__ import annotations

from django.db.models import Q

from crm.filters import SortableFilterSet, search_terms

from .models import Account, Contact


class AccountFilter(SortableFilterSet):
    SEARCH_HINT = "Name, email or phone"
    SORTS = {
        "name": ("name",),
        "email": ("email",),
        "phone": ("phone",),
        "city": ("city",),
        "owner": ("owner__first_name", "owner__last_name"),
        "created": ("created_at",),
    }

    class Meta:
        model = Account
        fields = ["q", "owner"]

    def search(self, queryset, name, value):
        for term in search_terms(value):
            queryset = queryset.filter(
                Q(name__icontains=term) | Q(email__icontains=term) | Q(phone__icontains=term)
            )
        return queryset


class ContactFilter(SortableFilterSet):
    SEARCH_HINT = "Name, email or account"
    SORTS = {
        "name": ("last_name", "first_name"),
        "job_title": ("job_title",),
        "account": ("account__name",),
        "email": ("email",),
        "phone": ("business_phone",),
        "owner": ("owner__first_name", "owner__last_name"),
        "created": ("created_at",),
    }

    class Meta:
        model = Contact
        fields = ["q", "owner"]

    def search(self, queryset, name, value):
        for term in search_terms(value):
            queryset = queryset.filter(
                Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
                | Q(email__icontains=term)
                | Q(account__name__icontains=term)
            )
        return queryset
