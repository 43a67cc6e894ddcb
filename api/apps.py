from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from crm import events

        from . import (
            schema,  # noqa: F401 - registers the token's security scheme
            webhooks,
        )

        if webhooks.on_event not in events.LISTENERS:
            events.LISTENERS.append(webhooks.on_event)
        # A cache of the active endpoints, cleared when one changes (api.webhooks).
        for signal in (post_save, post_delete):
            signal.connect(
                webhooks.forget_endpoints, sender="api.WebhookEndpoint", dispatch_uid=signal
            )
