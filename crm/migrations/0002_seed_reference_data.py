"""Seed currencies, the organisation settings row and the default business process flow."""

from django.db import migrations

CURRENCIES = [
    ("USD", "US Dollar", "$", 2),
    ("EUR", "Euro", "€", 2),
    ("GBP", "Pound Sterling", "£", 2),
    ("JPY", "Japanese Yen", "¥", 0),
    ("CAD", "Canadian Dollar", "CA$", 2),
    ("AUD", "Australian Dollar", "A$", 2),
    ("CHF", "Swiss Franc", "CHF", 2),
    ("INR", "Indian Rupee", "₹", 2),
]

# (stage, entity, [(step, field on the lead/opportunity)])
DEFAULT_FLOW = [
    (
        "Qualify",
        "lead",
        [
            ("Existing contact?", "existing_contact"),
            ("Existing account?", "existing_account"),
            ("Purchase timeframe", "purchase_timeframe"),
            ("Estimated budget", "budget_amount"),
            ("Purchase process", "purchase_process"),
            ("Identify decision maker", "decision_maker_identified"),
        ],
    ),
    (
        "Develop",
        "opportunity",
        [
            ("Customer need", "customer_need"),
            ("Proposed solution", "proposed_solution"),
            ("Identify stakeholders", "identify_stakeholders"),
            ("Identify competitors", "identify_competitors"),
        ],
    ),
    (
        "Propose",
        "opportunity",
        [
            ("Identify sales team", "identify_sales_team"),
            ("Develop proposal", "develop_proposal"),
            ("Complete internal review", "complete_internal_review"),
            ("Present proposal", "present_proposal"),
        ],
    ),
    (
        "Close",
        "opportunity",
        [
            ("Complete final proposal", "complete_final_proposal"),
            ("Present final proposal", "present_final_proposal"),
            ("Confirm decision date", "final_decision_date"),
            ("Send thank-you note", "send_thank_you"),
            ("File debrief", "file_debrief"),
        ],
    ),
]


def seed(apps, schema_editor):
    Currency = apps.get_model("crm", "Currency")
    OrganizationSettings = apps.get_model("crm", "OrganizationSettings")
    ProcessFlow = apps.get_model("crm", "ProcessFlow")
    ProcessStage = apps.get_model("crm", "ProcessStage")
    ProcessStep = apps.get_model("crm", "ProcessStep")

    for code, name, symbol, places in CURRENCIES:
        Currency.objects.get_or_create(
            code=code, defaults={"name": name, "symbol": symbol, "decimal_places": places}
        )
    usd = Currency.objects.get(code="USD")
    OrganizationSettings.objects.get_or_create(pk=1, defaults={"default_currency": usd})

    flow, created = ProcessFlow.objects.get_or_create(
        name="Lead to Opportunity Sales Process",
        defaults={
            "is_default": True,
            "description": "Qualify a lead, then develop, propose and close the opportunity.",
        },
    )
    if not created:
        return
    for stage_order, (stage_name, entity, steps) in enumerate(DEFAULT_FLOW, start=1):
        stage = ProcessStage.objects.create(
            process=flow, name=stage_name, entity=entity, order=stage_order * 10
        )
        for step_order, (step_name, field_name) in enumerate(steps, start=1):
            ProcessStep.objects.create(
                stage=stage, name=step_name, field_name=field_name, order=step_order * 10
            )


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
