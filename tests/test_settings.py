"""Settings, reference data and roles the migrations create, and the database
constraints that refuse impossible records."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from crm.models import Currency, OrganizationSettings, ProcessFlow, ProcessStage
from leads.models import Lead
from opportunities.models import Opportunity
from tests.factories import (
    ContactFactory,
    LeadFactory,
    ManagerFactory,
    OpportunityFactory,
    RepFactory,
)

pytestmark = pytest.mark.django_db

PRODUCTION_ENV = {
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "crm.example.com, www.crm.example.com",
}


def run_python(args: list[str], **env: str) -> subprocess.CompletedProcess:
    """Run the venv's Python in the project folder with a clean settings environment."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


# Production settings ---------------------------------------------------------------


def test_production_settings_refuse_to_load_without_a_secret_key():
    result = run_python(
        ["-c", "import crm.settings.production"], ALLOWED_HOSTS=PRODUCTION_ENV["ALLOWED_HOSTS"]
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_settings_refuse_to_load_with_an_empty_secret_key():
    result = run_python(
        ["-c", "import crm.settings.production"],
        SECRET_KEY="",
        ALLOWED_HOSTS=PRODUCTION_ENV["ALLOWED_HOSTS"],
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_production_settings_refuse_to_load_without_allowed_hosts():
    result = run_python(
        ["-c", "import crm.settings.production"], SECRET_KEY=PRODUCTION_ENV["SECRET_KEY"]
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_settings_load_from_the_environment():
    result = run_python(
        [
            "-c",
            "import os, crm.settings.production as s; "
            "print(s.DEBUG, s.SECRET_KEY == os.environ['SECRET_KEY'], s.ALLOWED_HOSTS)",
        ],
        **PRODUCTION_ENV,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True ['crm.example.com', 'www.crm.example.com']"


def test_production_settings_pass_the_deployment_checklist():
    result = run_python(
        ["manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="crm.settings.production",
        **PRODUCTION_ENV,
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("on_sqlite", [True, False])
def test_the_system_checks_raise_no_warning(on_sqlite, tmp_path):
    """`make run` and migrate, which also run the database checks, start without
    warnings, on SQLite and on the database the suite runs on."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}"} if on_sqlite else {}
    command = ["manage.py", "check", "--database", "default", "--fail-level", "WARNING"]
    result = run_python(command, **env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


# Roles ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "perm",
    [
        "leads.view_lead",
        "leads.add_lead",
        "leads.change_lead",
        "accounts.view_account",
        "accounts.change_account",
        "accounts.view_contact",
        "opportunities.view_opportunity",
        "opportunities.change_opportunity",
        "activities.add_note",
        "activities.add_activity",
        "crm.view_currency",
    ],
)
def test_sales_rep_and_manager_may_work_sales_records(perm):
    assert RepFactory().has_perm(perm)
    assert ManagerFactory().has_perm(perm)


@pytest.mark.parametrize(
    "perm",
    ["accounts.delete_account", "accounts.delete_contact", "opportunities.delete_opportunity"],
)
def test_only_the_sales_manager_may_delete_customers_and_opportunities(perm):
    assert not RepFactory().has_perm(perm)
    assert ManagerFactory().has_perm(perm)


@pytest.mark.parametrize(
    "perm",
    [
        "crm.change_organizationsettings",
        "crm.change_processflow",
        "crm.add_processstage",
        "crm.change_currency",
        "auth.change_user",
        "auth.change_group",
    ],
)
def test_sales_roles_may_not_change_settings_users_or_roles(perm):
    assert not RepFactory().has_perm(perm)
    assert not ManagerFactory().has_perm(perm)


def test_sales_roles_are_not_admin_users():
    assert Group.objects.filter(name__in=["Sales Rep", "Sales Manager"]).count() == 2
    assert not RepFactory().is_staff
    assert not ManagerFactory().is_staff


# Reference data ---------------------------------------------------------------------


def test_currencies_include_the_major_iso_codes():
    codes = set(Currency.objects.values_list("code", flat=True))

    assert {"USD", "EUR", "GBP", "JPY"} <= codes
    assert Currency.objects.get(code="JPY").decimal_places == 0
    assert Currency.objects.get(code="EUR").decimal_places == 2
    assert all(len(code) == 3 and code.isupper() for code in codes)


def test_organization_settings_load_returns_the_singleton_with_defaults():
    first = OrganizationSettings.load()
    second = OrganizationSettings.load()

    assert first.pk == second.pk == OrganizationSettings.SINGLETON_PK
    assert OrganizationSettings.objects.count() == 1
    assert first.create_records_on_qualify is True
    assert first.duplicate_detection_enabled is True
    assert first.default_currency.code == "USD"


def test_organization_settings_load_recreates_a_missing_row_with_defaults():
    OrganizationSettings.objects.all().delete()

    loaded = OrganizationSettings.load()

    assert OrganizationSettings.objects.count() == 1
    assert loaded.pk == OrganizationSettings.SINGLETON_PK
    assert loaded.create_records_on_qualify is True
    assert loaded.default_currency.code == "USD"


def test_organization_settings_save_keeps_a_single_row():
    loaded = OrganizationSettings.load()
    loaded.create_records_on_qualify = False
    loaded.save()
    OrganizationSettings(pk=99, duplicate_detection_enabled=False).save()

    assert list(OrganizationSettings.objects.values_list("pk", flat=True)) == [
        OrganizationSettings.SINGLETON_PK
    ]
    assert OrganizationSettings.load().duplicate_detection_enabled is False


def test_default_process_flow_has_the_four_stages_in_order():
    flow = ProcessFlow.default()

    assert flow.name == "Lead to Opportunity Sales Process"
    stages = list(flow.stages.order_by("order"))
    assert [(s.name, s.entity) for s in stages] == [
        ("Qualify", "lead"),
        ("Develop", "opportunity"),
        ("Propose", "opportunity"),
        ("Close", "opportunity"),
    ]


def test_default_process_flow_stages_have_their_steps():
    steps = {
        stage.name: [step.name for step in stage.steps.order_by("order")]
        for stage in ProcessFlow.default().stages.all()
    }

    assert steps == {
        "Qualify": [
            "Existing contact?",
            "Existing account?",
            "Purchase timeframe",
            "Estimated budget",
            "Purchase process",
            "Identify decision maker",
        ],
        "Develop": [
            "Customer need",
            "Proposed solution",
            "Identify stakeholders",
            "Identify competitors",
        ],
        "Propose": [
            "Identify sales team",
            "Develop proposal",
            "Complete internal review",
            "Present proposal",
        ],
        "Close": [
            "Complete final proposal",
            "Present final proposal",
            "Confirm decision date",
            "Send thank-you note",
            "File debrief",
        ],
    }


def test_every_process_step_fills_a_field_of_its_record():
    models = {ProcessStage.Entity.LEAD: Lead, ProcessStage.Entity.OPPORTUNITY: Opportunity}
    for stage in ProcessFlow.default().stages.prefetch_related("steps"):
        model = models[stage.entity]
        for step in stage.steps.all():
            assert step.field_name, step.name
            model._meta.get_field(step.field_name)  # raises FieldDoesNotExist


def test_only_one_process_flow_can_be_the_default():
    with transaction.atomic(), pytest.raises(IntegrityError):
        ProcessFlow.objects.create(name="Another flow", is_default=True)


# Database constraints -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "status_reason"),
    [
        ("open", "lost"),
        ("open", "qualified"),
        ("qualified", "new"),
        ("qualified", "canceled"),
        ("disqualified", "contacted"),
        ("disqualified", "qualified"),
    ],
)
def test_database_refuses_an_inconsistent_lead_state_and_status_reason(state, status_reason):
    lead = LeadFactory()

    with transaction.atomic(), pytest.raises(IntegrityError):
        Lead.objects.filter(pk=lead.pk).update(state=state, status_reason=status_reason)

    lead.refresh_from_db()
    assert (lead.state, lead.status_reason) == ("open", "new")


@pytest.mark.parametrize(
    ("state", "status_reason"),
    [
        (state, reason)
        for state, reasons in Lead.STATUS_REASONS_BY_STATE.items()
        for reason in reasons
    ],
)
def test_database_accepts_every_consistent_lead_state_and_status_reason(state, status_reason):
    lead = LeadFactory()

    Lead.objects.filter(pk=lead.pk).update(state=state, status_reason=status_reason)

    lead.refresh_from_db()
    assert (lead.state, lead.status_reason) == (state, status_reason)


def test_database_refuses_a_lead_without_topic_or_without_a_name_and_company():
    lead = LeadFactory()

    with transaction.atomic(), pytest.raises(IntegrityError):
        Lead.objects.filter(pk=lead.pk).update(topic="")
    with transaction.atomic(), pytest.raises(IntegrityError):
        Lead.objects.filter(pk=lead.pk).update(first_name="", last_name="", company_name="")


def test_database_accepts_an_opportunity_with_both_account_and_contact():
    opportunity = OpportunityFactory()
    contact = ContactFactory()

    Opportunity.objects.filter(pk=opportunity.pk).update(contact=contact)

    opportunity.refresh_from_db()
    assert opportunity.contact == contact and opportunity.account is not None


def test_database_refuses_an_opportunity_with_neither_account_nor_contact():
    opportunity = OpportunityFactory()

    with transaction.atomic(), pytest.raises(IntegrityError):
        Opportunity.objects.filter(pk=opportunity.pk).update(account=None)


def test_database_accepts_an_opportunity_for_a_contact_only():
    opportunity = OpportunityFactory(account=None, contact=ContactFactory())

    assert opportunity.customer == opportunity.contact


def test_database_refuses_an_inconsistent_opportunity_state_and_status_reason():
    opportunity = OpportunityFactory()

    with transaction.atomic(), pytest.raises(IntegrityError):
        Opportunity.objects.filter(pk=opportunity.pk).update(state="won", status_reason="canceled")
    with transaction.atomic(), pytest.raises(IntegrityError):
        Opportunity.objects.filter(pk=opportunity.pk).update(state="open", status_reason="won")


# Several machines: the job queue and the media store ------------------------------


def test_the_job_backend_is_the_database_unless_redis_is_named():
    show = "import crm.settings.production as s; print(s.TASKS['default']['BACKEND'])"
    on_db = run_python(["-c", show], **PRODUCTION_ENV)
    on_redis = run_python(
        ["-c", show + "; print(s.RQ_QUEUES['default']['URL'], 'django_rq' in s.INSTALLED_APPS)"],
        **PRODUCTION_ENV,
        TASKS_REDIS_URL="redis://queue.internal:6379/0",
    )
    assert on_db.stdout.split() == ["django_tasks_db.DatabaseBackend"], on_db.stderr
    assert on_redis.stdout.split() == [
        "django_tasks_rq.RQBackend",
        "redis://queue.internal:6379/0",
        "True",
    ], on_redis.stderr


def test_media_go_to_an_s3_bucket_when_one_is_named_else_the_file_system():
    show = (
        "import crm.settings.production as s; d = s.STORAGES['default']; "
        "print(d['BACKEND'], d.get('OPTIONS', {}).get('bucket_name'), "
        "d.get('OPTIONS', {}).get('endpoint_url'), d.get('OPTIONS', {}).get('default_acl'))"
    )
    local = run_python(["-c", show], **PRODUCTION_ENV)
    bucket = run_python(
        ["-c", show],
        **PRODUCTION_ENV,
        MEDIA_S3_BUCKET="leadline-media",
        MEDIA_S3_ENDPOINT_URL="https://s3.example.com",
    )
    assert local.stdout.split() == ["crm.storage.MediaStorage", "None", "None", "None"]
    assert bucket.stdout.split() == [
        "storages.backends.s3.S3Storage",
        "leadline-media",
        "https://s3.example.com",
        "private",
    ], bucket.stderr
