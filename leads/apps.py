from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        from crm import events

        from . import scoring

        # A lead saved or given an activity or note is scored again (leads.scoring).
        if scoring.on_event not in events.LISTENERS:
            events.LISTENERS.append(scoring.on_event)
