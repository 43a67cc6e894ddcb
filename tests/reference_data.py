"""Restore what the data migrations create (currencies, process flow, roles).

Transactional tests (browser, concurrency) end with a flush that empties every
table, migrations' data included; the next such test puts it back with this.
"""

import importlib

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.loader import MigrationLoader


def restore_reference_data() -> None:
    from django.contrib.auth.models import Group

    if Group.objects.filter(name="Sales Rep").exists():
        return
    ContentType.objects.clear_cache()
    state_apps = MigrationLoader(connection).project_state().apps
    importlib.import_module("crm.migrations.0002_seed_reference_data").seed(state_apps, None)
    importlib.import_module("crm.migrations.0003_roles").create_roles(state_apps, None)
    importlib.import_module("crm.migrations.0006_exchange_rates").base_currency_usd(
        state_apps, None
    )
    ContentType.objects.clear_cache()
