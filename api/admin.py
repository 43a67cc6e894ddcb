from django import forms
from django.contrib import admin

from . import webhooks
from .models import EVENT_TYPES, ApiToken, WebhookDelivery, WebhookEndpoint


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "key_start", "read_only", "last_used_at", "revoked_at"]
    list_filter = ["read_only"]
    search_fields = ["name", "user__username"]
    readonly_fields = ["user", "key_start", "created_at", "last_used_at"]
    exclude = ["key_hash"]

    def has_add_permission(self, request) -> bool:
        return False  # users create their own, on the API tokens page


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", label="URL")
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "is_active", "secret"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "description", "is_active", "failures_in_a_row", "disabled_at"]
    list_filter = ["is_active"]
    readonly_fields = ["failures_in_a_row", "disabled_at", "created_at"]

    def save_model(self, request, obj, form, change):
        if obj.is_active:
            obj.failures_in_a_row, obj.disabled_at = 0, None
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_duration_ms",
        "created_at",
    ]
    list_filter = ["status", "event_type", "endpoint"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Send the selected deliveries again")
    def send_again(self, request, queryset):
        for delivery in queryset:
            webhooks.replay(delivery)
        self.message_user(request, f"{queryset.count()} delivery(ies) queued again.")
