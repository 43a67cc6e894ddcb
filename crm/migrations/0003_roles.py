"""Create the Sales Rep and Sales Manager roles with their model permissions.

Object-level rules (a rep changes only what they own) live in the services;
these are the model-level permissions each role starts from."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

REP_MODELS = {
    # model: actions a rep may take on records (object rules narrow "change").
    ("leads", "lead"): ("view", "add", "change", "delete"),
    ("accounts", "account"): ("view", "add", "change"),
    ("accounts", "contact"): ("view", "add", "change"),
    ("opportunities", "opportunity"): ("view", "add", "change"),
    ("activities", "note"): ("view", "add", "change", "delete"),
    ("activities", "activity"): ("view", "add", "change", "delete"),
    ("activities", "connection"): ("view", "add", "change", "delete"),
    ("crm", "currency"): ("view",),
    ("crm", "processflow"): ("view",),
    ("crm", "processstage"): ("view",),
    ("crm", "processstep"): ("view",),
}
MANAGER_EXTRA = {
    ("accounts", "account"): ("delete",),
    ("accounts", "contact"): ("delete",),
    ("opportunities", "opportunity"): ("delete",),
    ("crm", "organizationsettings"): ("view",),
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after migrate; make them now so the roles can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(spec):
        found = []
        for (app_label, model), actions in spec.items():
            for action in actions:
                found.append(
                    Permission.objects.get(
                        content_type__app_label=app_label, codename=f"{action}_{model}"
                    )
                )
        return found

    rep, _ = Group.objects.get_or_create(name="Sales Rep")
    rep.permissions.set(perms(REP_MODELS))
    manager, _ = Group.objects.get_or_create(name="Sales Manager")
    manager.permissions.set(perms(REP_MODELS) + perms(MANAGER_EXTRA))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Sales Rep", "Sales Manager"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_seed_reference_data"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("leads", "0002_initial"),
        ("accounts", "0001_initial"),
        ("opportunities", "0001_initial"),
        ("activities", "0002_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
