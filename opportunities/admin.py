from django.contrib import admin

from .models import Opportunity


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
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
    readonly_fields = ("created_at", "modified_at", "closed_at", "closed_by")
    date_hierarchy = "created_at"
