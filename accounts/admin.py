from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Account, Contact


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ("first_name", "last_name", "email", "job_title", "business_phone", "owner")
    extra = 0
    show_change_link = True
    autocomplete_fields = ("owner",)


@admin.register(Account)
class AccountAdmin(SimpleHistoryAdmin):
    list_display = (
        "name",
        "email",
        "phone",
        "industry",
        "city",
        "owner",
        "is_active",
        "created_at",
    )
    list_filter = ("is_active", "industry", "owner")
    search_fields = ("name", "email", "phone", "city")
    list_select_related = ("owner",)
    autocomplete_fields = ("owner",)
    date_hierarchy = "created_at"
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    list_display = (
        "full_name",
        "email",
        "job_title",
        "business_phone",
        "account",
        "owner",
        "is_active",
        "created_at",
    )
    list_filter = ("is_active", "owner")
    search_fields = ("first_name", "last_name", "email", "account__name")
    list_select_related = ("owner", "account")
    autocomplete_fields = ("owner", "account")
    date_hierarchy = "created_at"
