from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "Organisation"

    def ready(self) -> None:
        # Each app's job handlers (`<app>/tasks.py`, registered with
        # crm.jobs.handler), so a worker knows every kind of job.
        autodiscover_modules("tasks")
