from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Opportunity


@admin.register(Opportunity)
class OpportunityAdmin(SimpleHistoryAdmin):
    list_display = (
        "name",
        "account",
        "contact",
        "stage",
        "state",
        "status_reason",
        "budget_amount",
        "currency",
        "owner",
        "created_at",
    )
    list_filter = ("state", "status_reason", "stage", "currency", "owner")
    search_fields = ("name", "account__name", "contact__last_name", "contact__email")
    list_select_related = ("owner", "account", "contact", "stage", "currency")
    autocomplete_fields = ("owner", "account", "contact")
    raw_id_fields = ("originating_lead",)
    # State changes go through opportunities.services (close, reopen, move stage).
    readonly_fields = (
        "state",
        "status_reason",
        "created_at",
        "modified_at",
        "closed_at",
        "closed_by",
    )
    date_hierarchy = "created_at"

    def has_change_permission(self, request, obj=None):
        # A closed opportunity is read-only until it is reopened.
        if obj is not None and not obj.is_active:
            return False
        return super().has_change_permission(request, obj)
