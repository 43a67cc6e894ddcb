from django.contrib import admin

from .models import Activity, Connection, Note

REGARDING = ("lead", "account", "contact", "opportunity")


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ("__str__", "regarding", "author", "attachment_name", "created_at")
    list_filter = ("created_at",)
    search_fields = ("title", "text", "attachment_name")
    list_select_related = ("author", *REGARDING)
    raw_id_fields = REGARDING
    autocomplete_fields = ("author",)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("subject", "type", "status", "regarding", "owner", "due_at", "created_at")
    list_filter = ("type", "status", "priority", "owner")
    search_fields = ("subject", "description")
    list_select_related = ("owner", *REGARDING)
    raw_id_fields = REGARDING
    autocomplete_fields = ("owner",)
    date_hierarchy = "due_at"


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ("contact", "role", "lead", "opportunity", "created_at")
    list_filter = ("role",)
    search_fields = ("contact__first_name", "contact__last_name", "contact__email")
    list_select_related = ("contact", "lead", "opportunity")
    raw_id_fields = ("lead", "opportunity", "contact")
