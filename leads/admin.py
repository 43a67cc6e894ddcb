from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from crm.models import OrganizationSettings

from . import scoring, services
from .exceptions import LeadError, error_message
from .models import Lead, RoutingRule, ScoringModel, ScoringSettings, WebToLeadForm


def _report(modeladmin, request, done: int, verb: str, failures: list[tuple[Lead, Exception]]):
    if done:
        modeladmin.message_user(request, f"{done} lead(s) {verb}.", messages.SUCCESS)
    for lead, exc in failures:
        modeladmin.message_user(
            request, f"“{lead}” was not {verb}: {error_message(exc)}", messages.ERROR
        )


@admin.action(description="Qualify selected leads")
def qualify_selected(modeladmin, request, queryset):
    results = services.qualify_leads(leads=list(queryset), user=request.user)
    failures = [(r.lead, r.error) for r in results if r.error is not None]
    _report(modeladmin, request, len(results) - len(failures), "qualified", failures)


def _per_lead(modeladmin, request, queryset, verb, call):
    done, failures = 0, []
    for lead in queryset:
        try:
            call(lead)
            done += 1
        except (LeadError, PermissionDenied, ValidationError) as exc:
            failures.append((lead, exc))
    _report(modeladmin, request, done, verb, failures)


def _disqualify_action(reason: Lead.StatusReason):
    def action(modeladmin, request, queryset):
        _per_lead(
            modeladmin,
            request,
            queryset,
            "disqualified",
            lambda lead: services.disqualify_lead(lead=lead, user=request.user, reason=reason),
        )

    action.__name__ = f"disqualify_{reason.value}"
    return admin.action(description=f"Disqualify selected leads: {reason.label}")(action)


@admin.action(description="Reactivate selected leads")
def reactivate_selected(modeladmin, request, queryset):
    _per_lead(
        modeladmin,
        request,
        queryset,
        "reactivated",
        lambda lead: services.reactivate_lead(lead=lead, user=request.user),
    )


class LeadAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            # Fill a new lead's empty fields from the chosen account or contact now,
            # as create_lead will: the model's checks (a name or a company) run
            # before save_model and would refuse a lead that names only a contact.
            cleaned = services.filled_from_existing(cleaned)
        return cleaned


@admin.register(Lead)
class LeadAdmin(SimpleHistoryAdmin):
    form = LeadAdminForm
    list_display = (
        "topic",
        "display_name",
        "company_name",
        "state",
        "status_reason",
        "lead_source",
        "rating",
        "owner",
        "created_at",
    )
    list_filter = ("state", "status_reason", "lead_source", "rating", "industry", "owner")
    search_fields = ("topic", "first_name", "last_name", "company_name", "email")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    raw_id_fields = ("existing_account", "existing_contact")
    autocomplete_fields = ("owner",)
    actions = [
        qualify_selected,
        *(_disqualify_action(r) for r in Lead.DISQUALIFY_REASONS),
        reactivate_selected,
    ]
    show_full_result_count = False
    lifecycle_readonly = (
        "state",
        "status_reason",
        "stage",
        "qualified_account",
        "qualified_contact",
        "qualified_opportunity",
        "qualified_at",
        "qualified_by",
        "disqualified_at",
        "disqualified_by",
        "created_at",
        "modified_at",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "topic",
                    ("first_name", "last_name"),
                    ("company_name", "job_title"),
                    ("business_phone", "mobile_phone"),
                    ("email", "website"),
                    ("existing_account", "existing_contact"),
                    "owner",
                )
            },
        ),
        (
            "Details",
            {
                "fields": (
                    ("lead_source", "rating", "industry"),
                    ("preferred_contact_method", "do_not_email", "do_not_call"),
                    ("budget_amount", "currency"),
                    ("purchase_timeframe", "purchase_process", "decision_maker_identified"),
                    "description",
                )
            },
        ),
        ("Status", {"fields": lifecycle_readonly}),
        ("Routing", {"fields": ("routed_by_rule", "routed_at")}),
    )

    readonly_fields = (*lifecycle_readonly, "routed_by_rule", "routed_at")

    def has_change_permission(self, request, obj=None):
        # An inactive lead is read-only here too: the admin shows it as text
        # and refuses a POST to its change form.
        if obj is not None and not obj.is_active:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in services.EDITABLE_FIELDS
        }
        if change:
            services.update_lead(lead=obj, user=request.user, **fields)
        else:
            all_fields = {
                n: v for n, v in form.cleaned_data.items() if n in services.EDITABLE_FIELDS
            }
            lead = services.create_lead(user=request.user, **all_fields)
            obj.pk = lead.pk
            obj._state.adding = False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except LeadError as exc:
            # E.g. the lead was closed by someone else while this form was open.
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("order", "name", "conditions", "target", "is_active")
    list_display_links = ("name",)
    list_editable = ("order", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("assign_to", "team")
    search_fields = ("name",)
    autocomplete_fields = ("assign_to",)
    fieldsets = (
        (None, {"fields": ("name", "order", "is_active")}),
        (
            "Conditions (blank: any; all given must match)",
            {"fields": ("lead_source", "industry", "rating", "email_domain")},
        ),
        ("Assign to (one of)", {"fields": ("assign_to", "team")}),
    )

    @admin.display(description="Conditions")
    def conditions(self, rule: RoutingRule) -> str:
        return rule.conditions_display

    @admin.display(description="Assigns to")
    def target(self, rule: RoutingRule) -> str:
        return rule.target_display


@admin.register(WebToLeadForm)
class WebToLeadFormAdmin(admin.ModelAdmin):
    list_display = ("name", "lead_source", "is_active", "endpoint")
    list_filter = ("is_active",)
    search_fields = ("name",)
    readonly_fields = ("token", "endpoint", "created_at")
    fields = ("name", "is_active", "lead_source", "thank_you_url", "token", "endpoint")

    @admin.display(description="Post to")
    def endpoint(self, form: WebToLeadForm) -> str:
        if form.pk is None:
            return "Shown once the form is saved."
        # The path on this site: the website's form posts to https://<this host><path>.
        return format_html("<code>{}</code>", form.endpoint_path)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        settings = OrganizationSettings.load()
        if obj.is_active and settings.default_lead_owner_id is None:
            self.message_user(
                request,
                "No default lead owner is set (Organisation settings): a post that no "
                "routing rule matches is refused.",
                messages.WARNING,
            )


# --- Lead scoring ------------------------------------------------------------------------------


class ScoringSettingsForm(forms.ModelForm):
    class Meta:
        model = ScoringSettings
        fields = ["window_days", "grade_a", "grade_b", "grade_c", "extra_fields"]

    def clean_extra_fields(self):
        return scoring.check_extra_fields(self.cleaned_data.get("extra_fields") or [])


@admin.register(ScoringSettings)
class ScoringSettingsAdmin(admin.ModelAdmin):
    """The singleton: its list page goes straight to the one record. A change
    takes effect at the next training (daily, or Retrain now): a model keeps the
    window, fields and grade thresholds it was trained with."""

    form = ScoringSettingsForm

    def has_add_permission(self, request):
        return not ScoringSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        obj = ScoringSettings.load()
        return HttpResponseRedirect(reverse("admin:leads_scoringsettings_change", args=[obj.pk]))


@admin.register(ScoringModel)
class ScoringModelAdmin(admin.ModelAdmin):
    """Each training: its quality on the held-out leads, whether it is the
    published model, and the fields with the most influence. Retrain now runs a
    training in the background (it also runs daily)."""

    change_list_template = "admin/leads/scoringmodel/change_list.html"
    list_display = [
        "trained_at",
        "quality",
        "auc_shown",
        "qualified",
        "disqualified",
        "holdout_size",
        "is_published",
        "seconds",
    ]
    list_filter = ["quality", "is_published"]
    fields = [
        "trained_at",
        "trained_by",
        "quality",
        "reason",
        "is_published",
        "auc_shown",
        "window_start",
        "qualified",
        "disqualified",
        "holdout_size",
        "seconds",
        "influence",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="AUC (held out)", ordering="auc")
    def auc_shown(self, obj) -> str:
        return "—" if obj.auc is None else f"{obj.auc:.3f}"

    @admin.display(description="Fields with the most influence")
    def influence(self, obj):
        rows = obj.content.get("influence", [])
        if not rows:
            return "—"
        labels = {f.name: f.label for f in scoring.BUILT_IN}
        top = max(value for _, value in rows) or 1
        body = format_html_join(
            "",
            '<tr><td>{}</td><td><meter min="0" max="{}" value="{}">{}</meter></td><td>{}</td></tr>',
            (
                (labels.get(name, name), top, value, f"{value:.3f}", f"{value:.3f}")
                for name, value in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>Field</th><th>Influence</th><th>Information value</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            body,
        )

    def get_urls(self):
        return [
            path(
                "retrain/",
                self.admin_site.admin_view(self.retrain),
                name="leads_scoringmodel_retrain",
            ),
            *super().get_urls(),
        ]

    def retrain(self, request):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:leads_scoringmodel_changelist"))
        if not request.user.has_perm("leads.view_scoringmodel"):
            raise PermissionDenied
        scoring.request_training(user=request.user)
        self.message_user(
            request,
            "A training has started; its model appears here when it is done (a minute or two "
            "for a million leads). A ready model is published and every open lead scored.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:leads_scoringmodel_changelist"))
