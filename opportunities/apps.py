from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OpportunitiesConfig(AppConfig):
    name = "opportunities"

    def ready(self) -> None:
        from . import stage_totals

        # SQLite drops a table's triggers when a migration rebuilds the table.
        post_migrate.connect(
            stage_totals.reinstall_if_missing,
            sender=self,
            dispatch_uid="opportunities.stage_totals",
        )
