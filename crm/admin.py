from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from . import jobs
from .models import Currency, Job, OrganizationSettings, ProcessFlow, ProcessStage, ProcessStep


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "symbol", "decimal_places", "exchange_rate", "is_active")
    list_editable = ("exchange_rate",)
    list_filter = ("is_active",)
    search_fields = ("code", "name")


@admin.register(OrganizationSettings)
class OrganizationSettingsAdmin(admin.ModelAdmin):
    """The singleton: its list page goes straight to the one record."""

    list_display = (
        "__str__",
        "create_records_on_qualify",
        "default_currency",
        "base_currency",
        "default_lead_owner",
    )
    autocomplete_fields = ("default_lead_owner",)

    def has_add_permission(self, request):
        return not OrganizationSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        obj = OrganizationSettings.load()
        return HttpResponseRedirect(reverse("admin:crm_organizationsettings_change", args=[obj.pk]))


class ProcessStageInline(admin.TabularInline):
    model = ProcessStage
    fields = ("order", "name", "entity")
    extra = 0
    show_change_link = True


@admin.register(ProcessFlow)
class ProcessFlowAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default")
    filter_horizontal = ("default_for_groups", "hidden_from_groups")
    inlines = [ProcessStageInline]


class ProcessStepInline(admin.TabularInline):
    model = ProcessStep
    fields = ("order", "name", "field_name", "is_required")
    extra = 0


@admin.register(ProcessStage)
class ProcessStageAdmin(admin.ModelAdmin):
    list_display = ("name", "process", "entity", "order")
    list_filter = ("process", "entity")
    list_editable = ("order",)
    ordering = ("process", "order")
    inlines = [ProcessStepInline]


@admin.register(ProcessStep)
class ProcessStepAdmin(admin.ModelAdmin):
    list_display = ("name", "stage", "field_name", "is_required", "order")
    list_filter = ("stage__process", "stage")


# The database backend's own task results are its internals: jobs are seen and
# retried as Job rows (below, and the managers' Background jobs page).
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "kind",
        "status",
        "created_by",
        "attempts",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["label", "error"]
    readonly_fields = [f.name for f in Job._meta.fields]
    actions = ["retry_failed"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Retry the selected failed jobs")
    def retry_failed(self, request, queryset):
        retried = sum(jobs.retry(job) for job in queryset)
        self.message_user(request, f"{retried} failed job(s) queued again.")
