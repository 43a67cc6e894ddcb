"""Notes, activities and stakeholders in the admin: for looking up and
cleaning up. They are created and changed in the app, where the services
apply the timeline rules (read-only inactive records, who may change what);
here they are view-only, and deleting removes attachment files after commit."""

from django.contrib import admin
from django.utils.html import format_html

from crm.storage import delete_files_on_commit

from .files import attachment_files
from .models import Activity, Connection, Note

REGARDING = ("lead", "account", "contact", "opportunity")


class ViewAndDeleteOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Note)
class NoteAdmin(ViewAndDeleteOnly):
    list_display = ("__str__", "regarding", "author", "attachment_link", "created_at")
    list_filter = ("created_at",)
    search_fields = ("title", "text", "attachment_name")
    list_select_related = ("author", *REGARDING)
    exclude = ("attachment",)
    readonly_fields = ("attachment_link",)

    @admin.display(description="Attachment")
    def attachment_link(self, note: Note):
        # Through the download view (which checks access), never a media URL.
        if not note.attachment:
            return "—"
        return format_html('<a href="{}">{}</a>', note.download_url, note.attachment_name)

    def delete_model(self, request, obj):
        files = [obj.attachment.name]
        super().delete_model(request, obj)
        delete_files_on_commit(files)

    def delete_queryset(self, request, queryset):
        files = attachment_files(pk__in=queryset.values("pk"))
        super().delete_queryset(request, queryset)
        delete_files_on_commit(files)


@admin.register(Activity)
class ActivityAdmin(ViewAndDeleteOnly):
    list_display = ("subject", "type", "status", "regarding", "owner", "due_at", "created_at")
    list_filter = ("type", "status", "priority", "owner")
    search_fields = ("subject", "description")
    list_select_related = ("owner", *REGARDING)
    date_hierarchy = "due_at"


@admin.register(Connection)
class ConnectionAdmin(ViewAndDeleteOnly):
    list_display = ("contact", "role", "lead", "opportunity", "created_at")
    list_filter = ("role",)
    search_fields = ("contact__first_name", "contact__last_name", "contact__email")
    list_select_related = ("contact", "lead", "opportunity")
